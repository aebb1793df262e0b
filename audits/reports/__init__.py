"""The standardized PDF transparency audit report: HTML building, SVG charts, safe
fetching of report assets, PDF writing and verification.

Services (`audits.services.reports`) call into this package; nothing here writes to the
database.
"""

import logging

# WeasyPrint reports every layout step at INFO; in a worker's log that is noise per page.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
