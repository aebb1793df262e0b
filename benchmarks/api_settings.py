"""Settings for benchmarks/api.py: the product's settings plus the bare baseline route.

The baseline view exists only here, never in the product.
"""

from govportal.settings import *  # noqa: F403
from govportal.settings import REST_FRAMEWORK

ROOT_URLCONF = "benchmarks.api_urls"
# The benchmark measures the API, not the rate limiter's refusals.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"principal": "1000000/min", "anonymous": "1000000/min"},
}
