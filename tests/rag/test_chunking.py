"""Chunking: paragraphs and headings of the report, token windows, stable anchors."""

from __future__ import annotations

from pathlib import Path

from rag.chunking import chunk_document, document_heading
from rag.loaders import load_document
from rag.loaders.text import is_heading, split_blocks
from rag.text import count_tokens, latin_share, split_sentences


def test_headings_are_recognised_by_their_numbering() -> None:
    assert is_heading("1. Introduction")
    assert is_heading("iv. GCM Regional Review report")
    assert is_heading("Roundtable 3: Objectives 4, 8, 9, 10, 11, 13, 21")
    assert is_heading(
        "Objective 11: Manage borders in an integrated, secure and coordinated manner"
    )
    # Page-break fragments of sentences are short too, but they are not headings.
    assert not is_heading("The purpose of this report is to synthesis")
    assert not is_heading("Within their voluntary")
    assert not is_heading("12-13 November 2020")


def test_blocks_trim_whitespace_and_keep_exact_offsets() -> None:
    text = "Title\n\n1. Intro\n \nFirst para.\nstill first.\n\n\n  Second para.  \n"
    blocks = split_blocks(text)
    assert [(text[b.start : b.end], b.kind) for b in blocks] == [
        ("Title", "paragraph"),
        ("1. Intro", "heading"),
        ("First para.\nstill first.", "paragraph"),
        ("Second para.", "paragraph"),
    ]


def test_report_passages_carry_sections_and_exact_offsets(seed_report: Path) -> None:
    document = load_document(seed_report)
    passages = chunk_document(document, max_tokens=200)
    assert document.doc_id == "gcm-unece-2020"
    for passage in passages:
        assert passage.text == document.text[passage.start : passage.end]
        assert passage.anchor.startswith("gcm-unece-2020#p")
    regularisation = next(p for p in passages if "Republic of Moldova and Portugal" in p.text)
    assert regularisation.section == "Roundtable 3: Objectives 4, 8, 9, 10, 11, 13, 21"
    heading = "Objective 11: Manage borders in an integrated, secure and coordinated manner"
    objective = next(p for p in passages if "Some stakeholders noted" in p.text)
    assert objective.section == heading
    # The heading opens the first passage under it, so structure questions can find it.
    assert objective.text.startswith(heading + "\n")
    assert split_sentences(objective.text)[0] == heading
    assert passages[0].section is None  # the title page precedes the first heading
    assert len({p.anchor for p in passages}) == len(passages)


def test_long_paragraphs_split_into_sentence_aligned_windows(seed_report: Path) -> None:
    document = load_document(seed_report)
    passages = chunk_document(document, max_tokens=80)
    windows = [p for p in passages if "." in p.anchor.split("#p")[1]]
    assert windows, "paragraphs over 80 tokens must be split"
    for window in windows:
        assert count_tokens(window.text) <= 80 or len(split_sentences(window.text)) == 1
    # Windows of one paragraph share its number: p14.1, p14.2, ...
    first = windows[0].anchor
    number = first.split("#p")[1].split(".")[0]
    siblings = [w.anchor for w in windows if w.anchor.split("#p")[1].split(".")[0] == number]
    assert siblings == [f"gcm-unece-2020#p{number}.{i}" for i in range(1, len(siblings) + 1)]


def test_re_chunking_an_unchanged_file_gives_identical_anchors(
    seed_report: Path, tmp_path: Path
) -> None:
    first = chunk_document(load_document(seed_report), max_tokens=200)
    copy = tmp_path / seed_report.name
    copy.write_bytes(seed_report.read_bytes())
    second = chunk_document(load_document(copy), max_tokens=200)
    assert [(p.anchor, p.content_hash) for p in first] == [
        (p.anchor, p.content_hash) for p in second
    ]


def test_editing_one_paragraph_keeps_the_other_anchors(tmp_path: Path) -> None:
    original = "1. Intro\n\nAlpha one.\n\nBeta two.\n\nGamma three.\n"
    path = tmp_path / "doc.txt"
    path.write_text(original)
    before = {p.anchor: p.text for p in chunk_document(load_document(path), 200)}
    path.write_text(original.replace("Beta two.", "Beta two, revised."))
    after = {p.anchor: p.text for p in chunk_document(load_document(path), 200)}
    assert before.keys() == after.keys() == {"doc#p1", "doc#p2", "doc#p3"}
    assert after["doc#p2"] == "Beta two, revised."
    assert after["doc#p3"] == before["doc#p3"]


def test_sentences_are_verbatim_and_respect_abbreviations() -> None:
    text = "Member States, e.g. Italy, acted. Portugal reported measures.⁵ The End"
    sentences = split_sentences(text)
    assert sentences == [
        "Member States, e.g. Italy, acted.",
        "Portugal reported measures.⁵",
        "The End",
    ]
    assert all(s in text for s in sentences)


def test_latin_share_counts_letters_only() -> None:
    assert latin_share("Which states? 2020") == 1.0
    assert latin_share("Молдова 2020") == 0.0
    assert latin_share("Qué países") == 1.0
    assert latin_share("Moldova Молдова") == 0.5
    assert latin_share("2020 ?!") == 1.0


# One brief, as an audit found it on a ministry's website: the page's <title> is not its <h1>.
BRIEF_TITLE = "Labour Mobility and Seasonal Work in Freedonia, 2021"
BRIEF_SECTIONS = (
    (
        "Seasonal worker visas",
        "In 2021, Freedonia issued 14,500 seasonal worker visas, mainly for agriculture.",
    ),
    ("Labour inspection", "The Labour Inspectorate carried out 640 inspections in 2021."),
)
BRIEF_OPENING = "This brief summarises the seasonal worker programme of Freedonia."


def write_brief(folder: Path) -> list[Path]:
    """The brief as Markdown, HTML and Word, with the same title, headings and paragraphs."""
    import docx

    folder.mkdir(exist_ok=True)
    markdown = [f"# {BRIEF_TITLE}", BRIEF_OPENING]
    html = [f"<h1>{BRIEF_TITLE}</h1>", f"<p>{BRIEF_OPENING}</p>"]
    word = docx.Document()
    word.add_heading(BRIEF_TITLE, level=0)
    word.add_paragraph(BRIEF_OPENING)
    for heading, paragraph in BRIEF_SECTIONS:
        markdown += [f"## {heading}", paragraph]
        html += [f"<h2>{heading}</h2>", f"<p>{paragraph}</p>"]
        word.add_heading(heading, level=1)
        word.add_paragraph(paragraph)
    (folder / "brief.md").write_text("\n\n".join(markdown), encoding="utf-8")
    (folder / "brief.html").write_text(
        "<html><head><title>Freedonia Brief | Ministry of Interior</title></head><body><main>"
        + "\n".join(html)
        + "</main></body></html>",
        encoding="utf-8",
    )
    word.save(str(folder / "brief.docx"))
    return [folder / name for name in ("brief.md", "brief.html", "brief.docx")]


def test_headings_become_sections_alike_in_markdown_html_and_word(tmp_path: Path) -> None:
    expected = [
        (BRIEF_TITLE, f"{BRIEF_TITLE}\n\n{BRIEF_OPENING}"),
        *((heading, f"{heading}\n\n{paragraph}") for heading, paragraph in BRIEF_SECTIONS),
    ]
    for path in write_brief(tmp_path):
        passages = chunk_document(load_document(path), max_tokens=200)
        assert [(p.section, p.text) for p in passages] == expected, path.name


def test_the_document_heading_is_the_heading_above_the_first_paragraph(tmp_path: Path) -> None:
    for path in write_brief(tmp_path):
        first, *others = chunk_document(load_document(path), max_tokens=200)
        assert document_heading(first) == BRIEF_TITLE, path.name
        assert [document_heading(passage) for passage in others] == [None, None]
    # A first paragraph with no heading above it: the title, if any, is that paragraph.
    (tmp_path / "note.txt").write_text("Freedonia note\n\n1. Visas\n\nVisas rose.\n")
    first, second = chunk_document(load_document(tmp_path / "note.txt"), max_tokens=200)
    assert document_heading(first) is None and document_heading(second) is None
