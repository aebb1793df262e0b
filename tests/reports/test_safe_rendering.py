"""Lab-written text cannot make the renderer fetch, read or attach anything.

Two layers are tested: the narrative goes through markdown-it (HTML off) and nh3, and the
renderer's URL fetcher refuses everything but the report's own assets and data: URIs even
for HTML that bypassed the sanitizer.
"""

import io
import time
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from audits.reports.fetcher import REPORT_ASSETS_DIRECTORY, ReportFetchRefused, ReportUrlFetcher
from audits.reports.html import ReportInputs, render_report_html
from audits.reports.markdown import markdown_to_safe_html, sanitize_html
from audits.reports.pdf import write_report_pdf
from tests.reports.conftest import pdf_text
from tests.reports.factories import small_facts_and_result

WHEN = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)

HOSTILE_NARRATIVES = {
    "img file": '<img src="file:///etc/passwd"> and ![passwd](file:///etc/passwd)',
    "metadata service": "![x](http://169.254.169.254/latest/meta-data/) "
    '<img src="http://169.254.169.254/latest/meta-data/iam">',
    "css import": "<style>@import url(http://169.254.169.254/a.css); body{}</style>"
    '<div style="background:url(file:///etc/passwd)">styled</div>',
    "svg external": '<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd"/>'
    '<use href="http://169.254.169.254/s.svg#x"/></svg>',
    "attachment link": '<link rel="attachment" href="file:///etc/passwd" title="passwd">'
    '<a rel="attachment" href="data:text/plain,stolen">attach</a>',
    "markdown link": "[click](http://169.254.169.254/) [docs](https://example.org/doc) "
    "[js](javascript:alert(1))",
}


def _inputs(narrative):
    document, provenance, facts_sha256, result = small_facts_and_result()
    return ReportInputs(
        reference="TA-2026-000001",
        lab="Example Lab",
        model_name="Atlas",
        model_version="2.1",
        revision=1,
        report_version=1,
        kind="provisional",
        issued_at=WHEN,
        assessed_at=WHEN,
        result=result,
        facts_document=document,
        facts_sha256=facts_sha256,
        narrative=narrative,
        provenance=provenance,
    )


def _render(narrative):
    fetcher = ReportUrlFetcher()
    pdf = write_report_pdf(render_report_html(_inputs(narrative)), dated=WHEN, fetcher=fetcher)
    return pdf, fetcher


def _only_our_assets(
    fetcher, *, data_uris=("data:application/json;base64,", "data:image/svg+xml;base64,")
):
    for url in fetcher.served:
        if url.startswith("data:"):
            assert url.startswith(data_uris), url
        else:
            assert url.startswith(REPORT_ASSETS_DIRECTORY.as_uri() + "/"), url


@pytest.mark.parametrize("case", sorted(HOSTILE_NARRATIVES))
def test_hostile_narratives_fetch_nothing_attach_nothing_and_still_render(case):
    narrative = [
        {"title": f"Hostile: {case}", "markdown": HOSTILE_NARRATIVES[case], "file": "x.md"}
    ]
    pdf, fetcher = _render(narrative)
    _only_our_assets(fetcher)
    # The sanitizer removed the markup, so the fetcher was not even asked.
    assert fetcher.refused == []
    reader = PdfReader(io.BytesIO(pdf))
    assert list(reader.attachments) == ["assessment.json"]
    # The only annotations are the table of contents' links to pages of the report itself.
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            assert annotation["/Subtype"] == "/Link"
            action = annotation.get("/A")
            assert "/Dest" in annotation or (action and action["/S"] == "/GoTo"), annotation
    text = pdf_text(pdf)
    assert f"Hostile: {case}" in text
    assert "root:x:0:0" not in text


def test_a_link_prints_as_text_with_its_https_address_only():
    html = markdown_to_safe_html(HOSTILE_NARRATIVES["markdown link"])
    assert "<a" not in html
    assert "click" in html and "169.254.169.254" not in html
    assert "docs (<span>https://example.org/doc</span>)" in html
    assert "javascript:" not in html.replace("[js](javascript:alert(1))", "")


def test_the_sanitizer_keeps_no_attribute_and_no_resource_tag():
    dirty = (
        '<p onclick="x()" style="color:red">hi</p><img src="file:///etc/passwd">'
        '<iframe src="http://169.254.169.254/"></iframe><link rel="attachment" href="x">'
        "<svg><image href='file:///etc/passwd'/></svg><script>alert(1)</script>"
    )
    assert sanitize_html(dirty) == "<p>hi</p>"


def test_a_one_megabyte_narrative_renders_in_bounded_pages_and_says_it_was_cut():
    paragraph = "The model was evaluated on many tasks. " * 20 + "\n\n"
    narrative = [
        {
            "title": "Everything",
            "markdown": paragraph * (1_048_576 // len(paragraph)),
            "file": "big.md",
        }
    ]
    started = time.monotonic()
    pdf, fetcher = _render(narrative)
    elapsed = time.monotonic() - started
    assert fetcher.refused == []
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    assert pages < 40, pages
    assert "Truncated" in pdf_text(pdf)
    assert elapsed < 60  # a bound against pathological layout, not a benchmark


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        REPORT_ASSETS_DIRECTORY.as_uri() + "/../../audits/models.py",
        REPORT_ASSETS_DIRECTORY.as_uri() + "/fonts/../../../pyproject.toml",
        REPORT_ASSETS_DIRECTORY.as_uri() + "/report.css?x=1",
        "http://169.254.169.254/latest/meta-data/",
        "https://example.org/font.ttf",
        "ftp://example.org/x",
        "gopher://127.0.0.1:6379/_FLUSHALL",
    ],
)
def test_the_fetcher_refuses_everything_outside_the_report_assets(url, caplog):
    fetcher = ReportUrlFetcher()
    with pytest.raises((ReportFetchRefused, ValueError)):
        fetcher.fetch(url)
    assert fetcher.served == []


def test_the_fetcher_refuses_a_symlink_out_of_the_assets(tmp_path):
    link = REPORT_ASSETS_DIRECTORY / "test-link-out.css"
    link.symlink_to("/etc/passwd")
    try:
        with pytest.raises(ReportFetchRefused):
            ReportUrlFetcher().fetch(link.as_uri())
    finally:
        link.unlink()


def test_the_fetcher_serves_our_stylesheet_fonts_and_data_uris(caplog):
    fetcher = ReportUrlFetcher()
    css = fetcher.fetch(REPORT_ASSETS_DIRECTORY.as_uri() + "/report.css")
    assert css.content_type == "text/css" and b"@page" in css.read()
    assert fetcher.fetch("data:text/plain,hello").read() == b"hello"


def test_unsanitized_html_is_still_contained_by_the_fetcher(caplog):
    # As if a template bug let lab HTML through: the fetcher is the second wall.
    html = render_report_html(_inputs([])).replace(
        "</body>",
        '<img src="file:///etc/passwd"><img src="http://169.254.169.254/x.png">'
        "<style>@import url(http://169.254.169.254/a.css);</style>"
        '<img src="data:image/svg+xml,<svg xmlns=%22http://www.w3.org/2000/svg%22>'
        '<image href=%22file:///etc/passwd%22 width=%2210%22 height=%2210%22/></svg>">'
        '<a rel="attachment" href="file:///etc/passwd">x</a></body>',
    )
    html = html.replace(
        '<link rel="stylesheet" href="report.css">',
        '<link rel="stylesheet" href="report.css"><link rel="attachment" href="file:///etc/passwd">',
    )
    fetcher = ReportUrlFetcher()
    pdf = write_report_pdf(html, dated=WHEN, fetcher=fetcher)
    _only_our_assets(fetcher, data_uris=("data:",))
    refused = " ".join(fetcher.refused)
    assert "file:///etc/passwd" in refused and "169.254.169.254" in refused
    assert list(PdfReader(io.BytesIO(pdf)).attachments) == ["assessment.json"]
    assert "refused to fetch" in caplog.text
