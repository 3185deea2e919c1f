# ruff: noqa: RUF001 - Russian text on purpose: its letters look like Latin ones
"""About forty readers' reports over four articles, as a real morning brings them: typos
and factual errors, a Russian article, long comments, several readers of the same
mistake, and readers who asked to hear back. Posted through the public API."""

from __future__ import annotations

from dataclasses import dataclass

from tests.browser.editor_helpers import post_report

BYLINE = "By Mara Lind, city reporter\nPublished 1 December 2026, 07:40\n"

ARTICLES = {
    "/news/ferry": (
        "Harbour ferry returns after a winter in the dock — The Demo Gazette",
        "Harbour ferry returns after a winter in the dock\n"
        + BYLINE
        + "The little blue ferry that links the old town with Gull Island went back into "
        "service on Monday, after four months in the dry dock at Kessel Yard. About two "
        "hundred people lined the quay to watch the first crossing, which reached the "
        "island eleven minutes later, a minute faster then the timetable promises.\n"
        "The ferry was built in 1968 and has carried more than nine million passengers. "
        "Its new engines use a third less fuel, the harbour office said, and the crew "
        "hopes to recieve the first of two electric boats in the spring. The works "
        "encompase a new ramp on the island side as well.\n"
        "Tickets stay at 2.40 euros. The first boat leaves the old town at 6.15, the "
        "last returns from the island at 23.05 on weekdays.",
    ),
    "/news/bridge": (
        "Новый мост через Волгу откроют в 2027 году | The Demo Gazette",
        "Новый мост через Волгу откроют в 2027 году\n"
        "Автор: Ирина Соколова\n"
        "Строительство нового моста через Волгу выйдет на финишную прямую весной. "
        "Расположеный в двух километрах от старой переправы, мост соединит северные "
        "районы города с трассой на Казань. В течении лета рабочие смонтируют последние "
        "пролёты, а осенью начнутся испытания под нагрузкой.\n"
        "Мэр пообещал, что жители смогут учавствовать в выборе названия моста. "
        "Длина сооружения составит 1 850 метров, стоимость — 14 миллиардов рублей. "
        "По словам инженеров, мост рассчитан на 100 лет эксплуатации.",
    ),
    "/news/comet": (
        "A comet you can see before breakfast - The Demo Gazette",
        "A comet you can see before breakfast\n"
        + BYLINE
        + "Comet Halvorsen will be visible to the naked eye low in the east for about an "
        "hour before dawn until the middle of the month. It was first seen in 1986 by an "
        "amateur astronomer in Tromsø, who was 17 at the time. The comet returns every "
        "thirty eight years and its tail now stretches across three full moons.\n"
        "The best nights are Thursday and Friday, when the moon sets early. Binoculars help, "
        "but a dark place out of town matters more than any lens, the observatory says.",
    ),
    "/news/budget": (
        "Council agrees a budget with less for roads — The Demo Gazette",
        "Council agrees a budget with less for roads\n"
        + BYLINE
        + "The council voted 23 to 18 on Thursday for a budget of 412 million euros, "
        "two percent less then last year. Spending on roads falls by a fifth, while "
        "libraries and school meals keep it's funding. The opposition said the cuts "
        "would hit the outer districts hardest.\n"
        "The budget will be published in full next week. Residents can comment until "
        "the end of January; the council has promised to answer every letter.",
    ),
}

LONG_COMMENT = (
    "I was on that first crossing with my grandson and I timed it with my phone, because "
    "we wanted to know whether the new engines made a difference. We left the quay at "
    "7.02 and tied up on the island at 7.14, so it was twelve minutes, not eleven. It is "
    "a small thing, but the harbour office put eleven minutes in its own press release "
    "and I think you copied it from there. The old boat took thirteen or fourteen "
    "minutes in my memory, so the new engines do help, just not as much as they say. "
    "Thank you for covering the ferry at all; most papers forgot it years ago."
)
RUSSIAN_LONG_COMMENT = (
    "Правильно пишется «расположенный» — с двумя «н», потому что это причастие с "
    "зависимым словом. Я учитель русского языка и показываю такие ошибки ученикам, "
    "поэтому буду благодарна, если вы исправите. И ещё: мост не 1 850, а 1 580 метров, "
    "так написано на сайте министерства транспорта."
)


@dataclass(frozen=True)
class Report:
    path: str
    exact: str | None
    replacement: str | None
    kind: str = "typo"
    comment: str | None = None
    name: str | None = None
    email: str | None = None
    notify: bool = False


def _readers(count: int, path, exact, replacement, **fields) -> list[Report]:
    """``count`` readers of the same mistake, each with a name; every other one asks to
    hear back."""
    return [
        Report(
            path,
            exact,
            replacement,
            name=f"Reader {path.rsplit('/', 1)[1]} {exact[:8]} {number}",
            email=f"reader{number}.{len(path)}{len(exact)}@example.org",
            notify=number % 2 == 0,
            **fields,
        )
        for number in range(count)
    ]


REPORTS: list[Report] = [
    # The ferry: a typo three readers saw, a factual error with a long comment.
    *_readers(3, "/news/ferry", "then", "than", comment="Comparative: “faster than”."),
    Report(
        "/news/ferry",
        "eleven",
        "twelve",
        kind="factual",
        comment=LONG_COMMENT,
        name="Edith Marsh",
        email="edith.marsh@example.org",
        notify=True,
    ),
    *_readers(2, "/news/ferry", "1968", "1966", kind="factual", comment="See the plaque."),
    Report("/news/ferry", "recieve", "receive", name="Tom", email="tom@example.org", notify=True),
    *_readers(2, "/news/ferry", "encompase", "encompass"),
    Report("/news/ferry", "2.40", "2.60", kind="factual", comment="Prices went up in May."),
    Report(
        "/news/ferry",
        None,
        None,
        kind="other",
        comment="The photo shows the old red ferry, not the blue one.",
    ),
    # The bridge, in Russian.
    Report(
        "/news/bridge",
        "Расположеный",
        "Расположенный",
        comment=RUSSIAN_LONG_COMMENT,
        name="Анна Петрова",
        email="anna.petrova@example.org",
        notify=True,
    ),
    *_readers(2, "/news/bridge", "Расположеный", "Расположенный"),
    *_readers(2, "/news/bridge", "В течении", "В течение", comment="«в течение» срока"),
    Report(
        "/news/bridge",
        "учавствовать",
        "участвовать",
        name="Олег",
        email="oleg@example.org",
        notify=True,
    ),
    Report(
        "/news/bridge",
        "1 850",
        "1 580",
        kind="factual",
        comment="Минтранс пишет: 1 580 метров.",
        name="Сергей Волков",
        email="s.volkov@example.org",
        notify=True,
    ),
    Report("/news/bridge", "100 лет", "150 лет", kind="factual", comment="Проект — 150 лет."),
    # The comet.
    *_readers(3, "/news/comet", "1986", "1984", kind="factual", comment="Discovered 1984."),
    Report("/news/comet", "thirty eight", "thirty-eight", comment="Hyphenate."),
    Report(
        "/news/comet",
        "three full moons",
        "six full moons",
        kind="factual",
        comment="Tail length per the observatory's note is about three degrees.",
    ),
    Report("/news/comet", "Tromsø", "Tromsö", comment="Spelling?", kind="unclear"),
    Report(
        "/news/comet",
        "Thursday and Friday",
        "Friday and Saturday",
        kind="factual",
        comment="Moonset table says Friday and Saturday.",
        name="Pia",
        email="pia@example.org",
        notify=True,
    ),
    # The budget.
    *_readers(4, "/news/budget", "then", "than"),
    *_readers(2, "/news/budget", "it's", "its", comment="Possessive."),
    Report(
        "/news/budget",
        "23 to 18",
        "24 to 17",
        kind="factual",
        comment="I was in the gallery: 24 for, 17 against, one abstention was counted wrong.",
        name="Councillor Ray",
        email="ray@example.org",
        notify=True,
    ),
    Report("/news/budget", "a fifth", "a quarter", kind="factual"),
    Report("/news/budget", "412 million", "421 million", kind="factual", comment="Typo in sum."),
    Report(
        "/news/budget",
        None,
        None,
        kind="unclear",
        comment="Which outer districts? The article never names them, and the map in the "
        "print edition shows four areas with the same colour. " * 3,
    ),
    Report("/news/ferry", "6.15", "6.10", kind="factual", name="Skipper", email="s@example.org"),
    Report("/news/bridge", "14 миллиардов", "16 миллиардов", kind="factual"),
    Report("/news/comet", "1986", "1984", kind="factual", email="late@example.org", notify=True),
    Report("/news/comet", "before dawn", "before sunrise", kind="other"),
]


def post_session_reports(live_server) -> list[str]:
    """Post every report, oldest first; returns their ids in that order."""
    ids = []
    for report in REPORTS:
        title, text = ARTICLES[report.path]
        fields: dict = {"kind": report.kind, "replacement": report.replacement}
        fields["comment"] = report.comment
        if report.email or report.name:
            fields["reporter"] = {
                "name": report.name,
                "email": report.email,
                "notify": report.notify,
            }
        ids.append(
            post_report(
                live_server,
                text=text,
                exact=report.exact,
                title=title,
                path=report.path,
                **fields,
            )
        )
    return ids
