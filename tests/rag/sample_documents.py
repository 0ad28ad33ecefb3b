"""Test documents written by the tests themselves: a fictional national GCM review as a
multi-page PDF (and broken variants of it), a Word report, an HTML page wrapped in site
boilerplate, a Markdown note, and a short report as Markdown and as plain text (a
near-duplicate). Each carries facts found nowhere else, so a test can tell
which document a passage came from."""

from __future__ import annotations

import io
from pathlib import Path

PDF_TITLE = "National Voluntary Review of the Republic of Ruritania 2024"
PDF_RUNNING_HEADER = "Ruritania GCM Review 2024"
# The fact the acceptance question asks about; it is on page 3 and nowhere else.
PDF_FACT = (
    "Under the Harvest Bridge Programme, Ruritania issued 4,812 seasonal work permits to "
    "nationals of Zembla in 2023, each valid for nine months."
)
PDF_FACT_PAGE = 3
PDF_FACT_QUESTION = (
    "How many seasonal work permits did Ruritania issue under the Harvest Bridge Programme?"
)
PDF_SECTIONS = {
    1: (
        "1. Introduction",
        [
            "The Republic of Ruritania presents its first voluntary national review of the Global "
            "Compact for Safe, Orderly and Regular Migration. The review was prepared by an "
            "inter-ministerial working group chaired by the Ministry of Interior.",
            "Civil society organisations, trade unions and the Ruritanian Red Cross were consulted "
            "in four rounds between March and June 2024. Their written submissions are summarised "
            "in the annex to this review.",
        ],
    ),
    2: (
        "2. Data and evidence",
        [
            "The National Statistics Office of Ruritania launched a migration data portal in 2022. "
            "It publishes quarterly figures on residence permits, naturalisation and returns.",
            "A survey of 2,300 migrant households, run with the Riverside University, measured "
            "access to health care, housing and schooling for children born abroad.",
        ],
    ),
    3: (
        "3. Labour migration",
        [
            PDF_FACT,
            "Employers taking part must provide housing inspected by the labour inspectorate and "
            "pay wages through bank transfers, which the inspectorate audits twice a season.",
        ],
    ),
}
# A paragraph long enough to run from page 2 onto page 3 (where section 3 follows it): the
# loader must join it again.
PDF_LONG_PARAGRAPH_WORDS = 800

DOCX_TITLE = "Freedonia Follow-up Report on Migrant Integration"
DOCX_FACT = "Freedonia opened 14 one-stop integration centres in provincial capitals in 2023."
DOCX_SECTIONS = (
    (
        "1. Integration services",
        [DOCX_FACT, "Each centre offers language courses and legal advice."],
    ),
    (
        "2. Recognition of skills",
        ["A fast-track procedure now recognises nursing diplomas within sixty days."],
    ),
)
DOCX_TABLE = (("Province", "Centres"), ("Northmark", "5"), ("Southmark", "9"))

HTML_TITLE = "Zembla Migration Portal: Return and Reintegration"
HTML_FACT = "Zembla's reintegration grant of 1,500 euros supported 620 returnees in 2023."
HTML_BOILERPLATE = (
    "Home",
    "Contact the webmaster",
    "Cookie settings",
    "Related links",
    "var tracker",
)
HTML_PAGE = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{HTML_TITLE}</title>
<style>body {{ font-family: sans-serif; }}</style><script>var tracker = 1;</script></head>
<body>
<header><div class="logo">Government of Zembla</div>
<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li></ul></nav></header>
<div id="content">
<h1>Return and reintegration</h1>
<p>{HTML_FACT}</p>
<p>The grant is paid in two instalments, the second after a <b>business plan</b> is approved.</p>
<h2>Counselling</h2>
<p>Returnees meet a counsellor within two weeks of arrival.</p>
<ul><li>Job placement</li><li>Psychosocial support</li></ul>
<aside>Related links: visas, asylum</aside>
<form><input name="q"><button>Search</button></form>
</div>
<footer><p>Contact the webmaster</p><p>Cookie settings</p></footer>
</body></html>
"""

MARKDOWN_TEXT = """---
title: "Ruritania: Note on Climate Mobility"
---

# Climate *mobility*

Ruritania's **planned relocation** policy moved 3 coastal villages inland in 2022, see
[the decree](https://example.org/decree).

## Next steps

- A register of at-risk settlements
- Consultations with the affected communities
"""


# A short report as Markdown, and the same text as plain text: another format, other bytes.
BORDER_REPORT = """# Border management

The Border Agency trained 412 officers in human rights standards in 2021.
Each border crossing point now has a referral desk for victims of trafficking.

# Returns

Assisted voluntary returns rose from 180 in 2020 to 236 in 2021.
"""


def write_review_pdf(path: Path) -> Path:
    """The Ruritania review: 3 pages, numbered headings, a running header and page numbers."""
    path.write_bytes(review_pdf_bytes())
    return path


def review_pdf_bytes() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    styles = getSampleStyleSheet()
    story = [Paragraph(PDF_TITLE, styles["Title"])]
    for page, (heading, paragraphs) in PDF_SECTIONS.items():
        if page == 2:
            story.append(PageBreak())
        story.append(Paragraph(heading, styles["Heading1"]))
        story.extend(Paragraph(text, styles["BodyText"]) for text in paragraphs)
        if page == 2:
            story.append(Paragraph(long_paragraph(), styles["BodyText"]))

    def decorate(canvas, document) -> None:  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawString(72, 810, PDF_RUNNING_HEADER)
        canvas.drawCentredString(297, 30, str(document.page))
        canvas.restoreState()

    buffer = io.BytesIO()
    # invariant: no timestamp or random id, so the same content gives the same bytes.
    SimpleDocTemplate(buffer, pagesize=A4, title=PDF_TITLE, invariant=True).build(
        story, onFirstPage=decorate, onLaterPages=decorate
    )
    return buffer.getvalue()


def long_paragraph() -> str:
    words = (
        "The portal also records the regions where migrants settle and the sectors in which "
        "they work, and the statistics office compares these figures with census data"
    ).split()
    text = " ".join(words[i % len(words)] for i in range(PDF_LONG_PARAGRAPH_WORDS))
    return text + " until the end of the reporting period."


def write_encrypted_pdf(path: Path) -> Path:
    """The review, encrypted with a user password (RC4: pypdf writes it without extras)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(review_pdf_bytes())))
    writer.encrypt("secret", algorithm="RC4-128")
    with open(path, "wb") as stream:
        writer.write(stream)
    return path


def write_image_only_pdf(path: Path) -> Path:
    """Two pages that each show an image and no text, like a scan without OCR."""
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    picture = Image.new("RGB", (400, 200), "white")
    ImageDraw.Draw(picture).rectangle((20, 20, 380, 180), outline="black", width=4)
    sheet = canvas.Canvas(str(path), invariant=True)
    for _ in range(2):
        sheet.drawImage(ImageReader(picture), 100, 400, 400, 200)
        sheet.showPage()
    sheet.save()
    return path


def write_blank_pdf(path: Path) -> Path:
    """A valid PDF with one page and nothing on it."""
    from reportlab.pdfgen import canvas

    sheet = canvas.Canvas(str(path), invariant=True)
    sheet.showPage()
    sheet.save()
    return path


def write_corrupt_pdf(path: Path) -> Path:
    """The first half of the review: the header is right, the rest is cut off."""
    data = review_pdf_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def write_report_docx(path: Path) -> Path:
    """The Freedonia report: Title and Heading styles, paragraphs, a table, a list."""
    import docx

    document = docx.Document()
    document.add_heading(DOCX_TITLE, level=0)
    for heading, paragraphs in DOCX_SECTIONS:
        document.add_heading(heading, level=1)
        for text in paragraphs:
            document.add_paragraph(text)
    table = document.add_table(rows=len(DOCX_TABLE), cols=2)
    for row, values in zip(table.rows, DOCX_TABLE, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_paragraph("1. Nurses first", style="List Number")
    document.save(str(path))
    return path


def write_portal_html(path: Path) -> Path:
    path.write_text(HTML_PAGE, encoding="utf-8")
    return path


def write_note_markdown(path: Path) -> Path:
    path.write_text(MARKDOWN_TEXT, encoding="utf-8")
    return path


def write_mixed_corpus(folder: Path, seed_report: Path) -> dict[str, Path]:
    """A folder with the PDF review, the Word report, the HTML page and the seed report."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    return {
        "pdf": write_review_pdf(folder / "ruritania-review.pdf"),
        "docx": write_report_docx(folder / "freedonia-report.docx"),
        "html": write_portal_html(folder / "zembla-portal.html"),
        "seed": Path(shutil.copy(seed_report, folder / seed_report.name)),
    }


def write_border_report(corpus: Path) -> None:
    """The border report as Markdown, and as plain text without its markup (other bytes)."""
    (corpus / "border-report.md").write_text(BORDER_REPORT)
    (corpus / "border-report.txt").write_text(BORDER_REPORT.replace("# ", ""))
