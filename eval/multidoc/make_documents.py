"""Build the two binary documents of the multi-document evaluation corpus.

    .venv/bin/python eval/multidoc/make_documents.py

writes, next to this script:

- sylvania-labour-remittances-2022.docx  (python-docx)
- grand-fenwick-protection-2021.pdf       (reportlab, real extractable text)

Both are FICTIONAL documents written to evaluate the assistant; their text lives here, so
the gold quotes of eval/gold_multi_*.jsonl can be checked against it. The Markdown, HTML
and plain-text documents of the corpus are kept as written. The outputs differ between
builds only in the timestamps the libraries embed.

The text below is light markup: "## " starts a section, a blank line ends a paragraph,
"- " starts a bullet; the lines of a paragraph are joined with single spaces.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent

Sections = list[tuple[str, list[str]]]

DISCLAIMER_SYLVANIA = (
    "FICTIONAL DOCUMENT written for evaluating the migration-policy assistant. "
    "Sylvania and every programme, figure and date in it are invented; it describes no real state."
)

TITLE_SYLVANIA = (
    "Kingdom of Sylvania: Thematic Report on Labour Mobility, Skills and Remittances "
    "under the Global Compact for Migration (2022)"
)

SYLVANIA_TEXT = """
## 1. Purpose and scope

This thematic report was prepared by the Ministry of Labour and Social Affairs of the
Kingdom of Sylvania as a contribution to the regional review of the Global Compact for
Safe, Orderly and Regular Migration. It covers the objectives of the Global Compact that
concern labour mobility: regular pathways (Objective 5), fair and ethical recruitment
(Objective 6), skills development and recognition (Objective 18), remittances (Objective
20) and the portability of social security entitlements (Objective 22). It covers the
period from January 2019 to December 2021.

The report was drafted by an inter-ministerial working group with the participation of
the Sylvanian Farmers' Union, the Confederation of Sylvanian Trade Unions, three migrant
associations and the Ombudsman for Equal Treatment, whose comments were discussed at a
validation meeting in the capital, Klopstockburg, on 9 February 2022.

Sylvania is a country of destination for workers from the Eastern Corridor and a country
of origin for a sizeable diaspora. Labour shortages are most acute in agriculture, food
processing, long-term care and road transport. Sylvania joined the Eastern Corridor
Migration Network when it was founded in 2017 and contributes to the Network's working
group on labour mobility.

## 2. Seasonal work and regular pathways (Objective 5)

The Seasonal Agricultural Work Act, adopted on 14 March 2019, created a single seasonal
permit that authorises both residence and work in agriculture and food processing.
Seasonal permits are valid for up to seven months in any twelve-month period and may be
renewed in the following season without a new labour market test.

In 2021 the Ministry issued 9,400 seasonal permits in total. The largest group came from
Freedonia: in 2021, 3,150 seasonal workers from Freedonia were employed in Sylvanian
agriculture, most of them in the fruit-growing districts of the Klopstock valley.
Employers must provide accommodation that meets national housing standards and may not
deduct more than 15 per cent of wages for it.

Outside agriculture, the Care Workers Pathway opened in September 2021 offers two-year
permits to qualified carers, with a right to bring family members after twelve months of
employment.

## 3. The labour market and migrant workers

At the end of 2021, 142,000 foreign nationals were employed in Sylvania, or 6.3 per cent
of all employed persons. Foreign workers make up almost half of the workforce in
horticulture and a quarter of the workforce in residential care. The National Labour
Market Observatory publishes an annual list of shortage occupations, which in 2021
contained 34 occupations, from truck drivers to physiotherapists.

Migrant workers have the same rights as Sylvanian workers under labour law and
collective agreements. The Confederation of Sylvanian Trade Unions opened a help desk
for migrant workers in 2020 and reports that 4,100 migrant workers joined a trade union
in 2021.

## 4. Fair and ethical recruitment (Objective 6)

The Fair Recruitment Regulation, in force since 1 January 2021, prohibits employers and
recruitment agencies from charging recruitment fees or related costs to workers,
including the costs of visas, medical examinations and travel. Agencies that breach the
Regulation lose their licence and can be fined up to EUR 50,000. The Labour Inspectorate
opened 187 investigations under the Regulation in its first year.

A multilingual complaints line for migrant workers, run by the Labour Inspectorate,
received 1,260 calls in 2021, most of them concerning unpaid overtime.

## 5. Skills development and recognition of qualifications (Objective 18)

Migrants frequently work below their level of qualification. The Sylvanian
Qualifications Recognition Board launched the Skills Passport programme in 2020 to
assess diplomas and work experience acquired abroad, including through practical tests
where documents are missing. The Skills Passport programme recognised the qualifications
of 2,270 migrants in 2021, a third of them nurses and care workers.

Employers in long-term care may combine the Skills Passport with a six-month bridging
course that includes Sylvanian language classes and supervised practice.

Since 2021 Sylvania and Borduria have run a skills partnership in welding and electrical
installation: vocational schools in Borduria train young people to Sylvanian standards,
and graduates may apply for a work permit in Sylvania or take up work at home with
Sylvanian companies established in Borduria. The first 120 graduates are expected to
complete the programme in June 2022.

## 6. Remittances (Objective 20)

Sylvania is an important source of remittances for the countries of the Eastern
Corridor. Outward remittances from Sylvania totalled EUR 1.1 billion in 2021. The
average cost of sending remittances from Sylvania fell to 6.8 per cent in 2021, from 8.1
per cent in 2019, but it remains above SDG target 10.c, which calls for reducing
remittance costs to less than 3 per cent.

To increase competition, the Financial Supervisory Authority authorised three non-bank
digital transfer providers in 2021 and now requires all providers to display the total
cost of a transfer, including the exchange rate margin, before the customer pays.

## 7. Diaspora engagement (Objective 19)

Some 310,000 Sylvanian citizens live abroad. The Treasury is preparing Sylvania's first
diaspora bond, for issue in 2023, so that Sylvanians abroad can invest their savings in
the modernisation of the railway network. A Diaspora Council of 25 members elected by
Sylvanian communities abroad advises the Government on diaspora policy.

## 8. Consular services for Sylvanians abroad (Objective 14)

Sylvanian embassies and consulates launched SylvaLink, a mobile application for consular
registration, in April 2021. Registered nationals receive travel advice and can request
emergency consular assistance through the application; SylvaLink had 18,600 registered
users by December 2021.

## 9. Portability of social security entitlements (Objective 22)

The Sylvania–Freedonia Social Security Agreement, in force since 1 October 2021, allows
periods of insurance completed in either country to be added together for pension
purposes and guarantees the export of pensions to the other country. Seasonal workers
from Freedonia are covered by the Agreement from their first season.

## 10. The Corridor Reintegration Fund

Sylvania contributed EUR 700,000 to the Corridor Reintegration Fund of the Eastern
Corridor Migration Network in 2021, earmarked for vocational training of returnees who
had worked in Sylvanian agriculture.

## 11. Conclusions

Sylvania's experience shows that regular pathways work best when they are combined with
effective labour inspection, fair recruitment and the recognition of skills. In the
coming years the Ministry will:

- extend the single seasonal permit to the tourism sector;
- evaluate the Care Workers Pathway in 2023; and
- work with the Network towards remittance costs below 5 per cent by 2025.
"""

DISCLAIMER_FENWICK = (
    "FICTIONAL DOCUMENT written for evaluating the migration-policy assistant. "
    "Grand Fenwick and every programme, figure and date in it are invented; "
    "it describes no real state."
)

TITLE_FENWICK = (
    "Duchy of Grand Fenwick: Report on the Implementation of the Global Compact for Migration - "
    "Protection, Detention and Access to Services (2021)"
)

FENWICK_TEXT = """
## 1. Introduction

The Duchy of Grand Fenwick submits this report on its implementation of the Global
Compact for Safe, Orderly and Regular Migration. The report was prepared by the Ducal
Directorate for Migration and Citizenship in consultation with the Office of the
Ombudsperson, the Fenwick Red Cross and eleven migrant associations, and it concentrates
on the protection of migrants, immigration detention and access to services.

The report covers the period from the adoption of the Global Compact in December 2018 to
September 2021. It follows the structure of the guiding objectives of the Global Compact
but reports only on those in which the Duchy has taken new measures since 2018.

Grand Fenwick is a small country of destination. Foreign residents make up 38 per cent
of the population of the Duchy, and cross-border commuters fill one job in five. Most
migrants come from Borduria, Freedonia and Sylvania and work in wine production, tourism
and financial services.

## 2. Access to health care and the firewall (Objective 15)

The Health Access Protection Decree entered into force on 1 July 2020. It establishes a
firewall between health services and immigration enforcement: information collected by
doctors, hospitals and pharmacies may not be used for immigration control, and no
immigration check may take place in or near a health facility. The Decree also entitles
migrants without residence status to primary care, maternal and child health care and
mental health services.

In the first twelve months after the Decree took effect, public health centres recorded
2,860 consultations by migrants without residence status, twice the number recorded in
the previous year. The Directorate of Health has trained reception staff in every public
health centre on the Decree.

## 3. Immigration detention and alternatives (Objective 13)

Grand Fenwick treats immigration detention as a measure of last resort. Since the Child
Detention (Abolition) Act of 2020, no child may be held in immigration detention in the
Duchy, whether unaccompanied or with family. The capacity of the Castle Road Holding
Centre, the only immigration detention facility in the Duchy, was reduced from 60 to 24
places in 2021.

In place of detention, families with children are supported through community-based case
management. In 2021, 146 children and their families were supported through
community-based case management, and 93 per cent of the families complied with their
reporting obligations. Each family is assigned a caseworker from the Fenwick Red Cross
who explains procedures, arranges legal advice and helps the family prepare for every
possible outcome of the case.

## 4. Migrants in vulnerable situations (Objective 7)

The Residence Permit for Exploited Workers, introduced in 2021, gives migrants who
report severe labour exploitation a renewable one-year residence permit, whether or not
they take part in criminal proceedings against the employer. Twenty-seven such permits
were granted in 2021, mainly to workers in restaurants and private households.

The Directorate for Migration and Citizenship also screens all new arrivals for
vulnerabilities, including disability, pregnancy and the effects of torture, and refers
them to specialised services. A trained interpreter is provided free of charge at every
interview.

## 5. Education and inclusion (Objective 16)

Every child living in the Duchy is entitled to attend school, whatever the child's
migration status or that of the parents. In the school year 2020/2021, 640 pupils
received intensive Fenwickian language support in reception classes before joining
regular classes. Adult migrants receive vouchers for 200 hours of free language tuition
during their first two years of residence.

Municipal integration councils, in which elected migrant representatives sit alongside
local officials, operate in all three municipalities of the Duchy and advise mayors on
local services.

## 6. Access to justice and decent work (Objectives 6 and 16)

The Office of the Migrant Workers' Ombudsperson opened in March 2020 to receive
complaints from migrant workers about wages, working hours and housing. It received 318
complaints in 2021 and recovered EUR 389,000 in unpaid wages on behalf of workers, most
of them in seasonal tourism jobs.

Labour inspectors may no longer report workers' migration status to the immigration
authorities when they inspect a workplace following a complaint.

## 7. Portability of social security (Objective 22)

Grand Fenwick has concluded social security agreements with Borduria in 2019 and with
Ruritania in 2020. They allow migrant workers to carry their pension rights home and to
combine periods of insurance completed in each country.

## 8. Return, readmission and reintegration (Objective 21)

Grand Fenwick gives priority to voluntary return. In 2021, 412 migrants returned from
Grand Fenwick to Borduria under the assisted voluntary return programme, and 57 were
removed under forced return procedures. Every person who returns voluntarily receives a
reintegration grant of EUR 1,500 and an appointment with the municipal services of their
place of return.

Forced returns are monitored by the Office of the Ombudsperson, which observed 21
removal operations in 2021 from the moment of collection to the handover to the
authorities of the country of return. No return takes place while an appeal with
suspensive effect is pending, and families with children are never removed at night.

Grand Fenwick contributed EUR 1.2 million to the Corridor Reintegration Fund of the
Eastern Corridor Migration Network in 2021, making it the largest contributor to the
Fund.

## 9. International cooperation (Objective 23)

The Duchy finances projects in countries of origin through its Ducal Development
Cooperation Programme. In 2021 it supported a vocational school for young people in the
Bordurian town of Kropow and a project to improve birth registration in rural Freedonia.

## 10. Conclusions and next steps

Grand Fenwick will continue to protect migrants in vulnerable situations and to ensure
that access to services does not depend on migration status. The Directorate for
Migration and Citizenship will evaluate the Health Access Protection Decree in 2022 and
will publish the evaluation. The Duchy also intends to close the Castle Road Holding
Centre entirely by 2025 if the case management programme continues to succeed.
"""


def parse(markup: str) -> Sections:
    """Sections of (heading, paragraphs) from the light markup; bullets keep their "- "."""
    sections: Sections = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            sections[-1][1].append(" ".join(paragraph))
            paragraph.clear()

    for line in markup.splitlines():
        stripped = line.strip()
        if stripped.startswith("## "):
            flush()
            sections.append((stripped[3:], []))
        elif not stripped:
            flush()
        elif stripped.startswith("- "):
            flush()
            paragraph.append(stripped)
        else:
            paragraph.append(stripped)
    flush()
    return sections


SYLVANIA = parse(SYLVANIA_TEXT)
FENWICK = parse(FENWICK_TEXT)


def build_docx(path: Path) -> None:
    import docx
    from docx.shared import Pt

    document = docx.Document()
    props = document.core_properties
    props.title = TITLE_SYLVANIA
    props.author = "Fictional evaluation corpus"
    props.subject = "Fictional document for evaluating the migration-policy assistant"
    intro = document.add_paragraph()
    run = intro.add_run(DISCLAIMER_SYLVANIA)
    run.italic = True
    run.font.size = Pt(9)
    document.add_heading(TITLE_SYLVANIA, level=0)
    for heading, paragraphs in SYLVANIA:
        document.add_heading(heading, level=1)
        for text in paragraphs:
            if text.startswith("- "):
                document.add_paragraph(text[2:], style="List Bullet")
            else:
                document.add_paragraph(text)
    document.save(str(path))


def build_pdf(path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    doc = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=2.5 * cm,
        rightMargin=2.5 * cm,
        topMargin=2.5 * cm,
        bottomMargin=2.5 * cm,
        title=TITLE_FENWICK,
        author="Fictional evaluation corpus",
        subject="Fictional document for evaluating the migration-policy assistant",
    )
    story = [
        Paragraph(f"<i>{DISCLAIMER_FENWICK}</i>", styles["Normal"]),
        Spacer(1, 12),
        Paragraph(TITLE_FENWICK, styles["Title"]),
    ]
    for heading, paragraphs in FENWICK:
        story.append(Paragraph(heading, styles["Heading2"]))
        for text in paragraphs:
            story.append(Paragraph(text, styles["BodyText"]))
    doc.build(story)


def plain_text(disclaimer: str, title: str, sections: Sections) -> str:
    """The documents' text as a reader sees it (for word counts and quote checks)."""
    lines = [disclaimer, "", title, ""]
    for heading, paragraphs in sections:
        lines += [heading, ""]
        for text in paragraphs:
            lines += [text.removeprefix("- "), ""]
    return "\n".join(lines)


def main() -> None:
    build_docx(HERE / "sylvania-labour-remittances-2022.docx")
    build_pdf(HERE / "grand-fenwick-protection-2021.pdf")
    for name, text in (
        ("sylvania", plain_text(DISCLAIMER_SYLVANIA, TITLE_SYLVANIA, SYLVANIA)),
        ("grand-fenwick", plain_text(DISCLAIMER_FENWICK, TITLE_FENWICK, FENWICK)),
    ):
        print(f"{name}: {len(text.split())} words")


if __name__ == "__main__":
    main()
