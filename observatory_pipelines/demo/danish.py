"""Danish words and sentence templates the synthetic corpus is written from (no downloads).

Every name here is invented: outlets, people and organisations of the demo are fictional,
so nothing the demo shows can be mistaken for what a real person or newspaper said.
Templates take ``{term}``/``{term2}`` (the topic's search terms, as a researcher would
search them), ``{who}`` (a politician or organisation), ``{place}``, ``{num}`` and
``{party}``; social templates may also take ``{link}`` (a shared article's URL).
"""

from __future__ import annotations

from dataclasses import dataclass

FIRST_NAMES = (
    "Anne Mette Lars Søren Jens Hanne Kirsten Peter Mads Freja Ida Emil Sofie Magnus Laura "
    "Oliver Clara Noah Ellen Viktor Asger Karen Bente Ole Henrik Trine Rasmus Line Jonas Maja "
    "Birgitte Niels Torben Signe Astrid Aksel Villads Liva Malthe Esther Ulrik Dorthe Åse Ørjan"
).split()
SURNAMES = (
    "Jensen Nielsen Hansen Pedersen Andersen Christensen Larsen Sørensen Rasmussen Jørgensen "
    "Petersen Madsen Kristensen Olsen Thomsen Poulsen Johansen Møller Mortensen Knudsen "
    "Jakobsen Lund Holm Schmidt Frederiksen Bach Kjær Dahl Vestergaard Brøndum Højgaard Ærenlund"
).split()

PLACES = (
    "København Aarhus Odense Aalborg Esbjerg Randers Kolding Horsens Vejle Roskilde Herning "
    "Silkeborg Næstved Viborg Nuuk Sisimiut Ilulissat Tórshavn Lolland Bornholm Thisted Skive"
).split()
PARTIES = (
    "Socialdemokratiet",
    "Venstre",
    "Moderaterne",
    "SF",
    "Liberal Alliance",
    "Det Konservative Folkeparti",
    "Enhedslisten",
    "Radikale Venstre",
    "Dansk Folkeparti",
    "Alternativet",
)

# Fictional public figures and organisations: the demo's cross-platform actors.
PUBLIC_ACTORS = (
    ("Mette Lindahl", "politician"),
    ("Jakob Ravnsholt", "politician"),
    ("Signe Aagaard", "politician"),
    ("Klimarådet for Fremtiden", "organisation"),
    ("Landbrugsforum Danmark", "organisation"),
    ("Grønlands Ungdomsråd", "organisation"),
    ("Energibyen Aps", "company"),
    ("Søren Kvist", "journalist"),
)

# Fictional outlets: (feed key, outlet name, section, host).
OUTLETS = (
    ("nordposten_indland", "Nordposten", "Indland", "nordposten.example.dk"),
    ("nordposten_politik", "Nordposten", "Politik", "nordposten.example.dk"),
    ("dagbladet_fyn", "Dagbladet Fyn", "Nyheder", "dagbladetfyn.example.dk"),
    ("kbh_avisen", "Københavneravisen", "Seneste", "kbhavisen.example.dk"),
    ("politisk_ugebrev", "Politisk Ugeblad", "Analyse", "politiskugeblad.example.dk"),
    ("arktisk_nyt", "Arktisk Nyt", "Grønland", "arktisknyt.example.gl"),
    ("jysk_morgen", "Jysk Morgen", "Erhverv", "jyskmorgen.example.dk"),
)

SUBREDDITS = ("Denmark", "dkpolitik", "Aarhus", "copenhagen", "GreenlandNews")


@dataclass(frozen=True)
class Topic:
    """A subject of the debate: its search terms and how people write about it."""

    name: str
    terms: tuple[str, ...]  # the first term is the one most posts about the topic contain
    weight: float  # share of posts about this topic on an ordinary day
    headlines: tuple[str, ...]
    sentences: tuple[str, ...]
    social: tuple[str, ...]


TOPICS = (
    Topic(
        name="klima",
        terms=("klimaforandringer", "grøn omstilling", "co2-afgift"),
        weight=0.24,
        headlines=(
            "Ny rapport: {term} rammer {place} hårdere end ventet",
            "{who} vil fremrykke den {term2}",
            "Eksperter advarer: {term} koster {num} milliarder",
            "Regeringen præsenterer plan for {term2} i {place}",
            "Kommuner kræver penge til {term2}",
        ),
        sentences=(
            "Ifølge {who} er {term} ikke længere en fremtidig trussel, men en udfordring her og nu.",
            "I {place} har man allerede mærket konsekvenserne af {term}.",
            "{party} kalder planen for utilstrækkelig og vil have en højere {term2}.",
            "Beregninger viser, at {num} procent af udledningerne kommer fra transport og landbrug.",
            "Debatten om {term2} har delt Folketinget i to lejre.",
            "Borgere i {place} frygter, at regningen ender hos almindelige familier.",
        ),
        social=(
            "Vi taler for lidt om {term}. Det er nu, der skal handles! {link}",
            "Endnu en rapport om {term}. Hvornår tager politikerne det alvorligt? {link}",
            "{term2} skal være social retfærdig – ellers mister vi opbakningen #dkpol",
            "Interessant analyse af {term2} og {term} her: {link}",
            "Så kom regningen for {term2}. Hvem betaler? #dkpol {link}",
        ),
    ),
    Topic(
        name="grønland",
        terms=("grønland", "rigsfællesskabet", "selvstyret"),
        weight=0.16,
        headlines=(
            "{who}: {term} skal selv bestemme over sine råstoffer",
            "Stor debat om {term2} efter udmelding fra Nuuk",
            "Formand i {term3} kræver nye forhandlinger om {term2}",
            "Eksperter: {term} bliver afgørende for sikkerheden i Arktis",
            "Ny aftale mellem Danmark og {term} om fiskeri og forsvar",
        ),
        sentences=(
            "Spørgsmålet om {term} og {term2} fylder meget i den politiske debat.",
            "{who} understreger, at beslutninger om {term} skal træffes i Nuuk.",
            "I Sisimiut og Ilulissat følger man forhandlingerne tæt.",
            "{party} ønsker en ny kommission, der skal se på {term2}.",
            "Ifølge {who} er {num} procent af befolkningen for større selvstændighed.",
        ),
        social=(
            "Alle taler om {term} i dag. Hvad betyder det for {term2}? {link}",
            "{term} er ikke til salg. Punktum. #dkpol",
            "Stærkt interview om {term} og {term3} her: {link}",
            "Hvorfor er det først nu, at København interesserer sig for {term}? {link}",
            "Historisk dag for {term} og {term2} #dkpol {link}",
        ),
    ),
    Topic(
        name="landbrug",
        terms=("landbrug", "co2-afgift", "kvælstof"),
        weight=0.15,
        headlines=(
            "Landmænd i {place} protesterer mod {term2} på {term}",
            "{who}: Dansk {term} kan blive en vinder af omstillingen",
            "Ny aftale skal halvere udledningen af {term3}",
            "{party} vil have kompensation til {term}",
        ),
        sentences=(
            "Den foreslåede {term2} vil koste erhvervet omkring {num} millioner kroner om året.",
            "{who} mener, at dansk {term} allerede er blandt de mest klimavenlige i verden.",
            "Udledningen af {term3} til fjordene er stadig for høj, viser nye målinger.",
            "Landmænd fra {place} kørte i traktor til Christiansborg.",
        ),
        social=(
            "Uden {term} intet Danmark. Stop {term2} nu! {link}",
            "En {term2} på {term} er den eneste vej frem #dkpol",
            "Fjorden ved {place} er død pga. {term3}. Hvor længe skal vi vente? {link}",
            "God artikel om {term} og {term2}: {link}",
        ),
    ),
    Topic(
        name="valg",
        terms=("folketingsvalg", "#dkpol", "statsministeren"),
        weight=0.2,
        headlines=(
            "Måling: {party} går frem op til næste {term}",
            "{who} afviser at udskrive {term} før sommer",
            "{term3} under pres efter ny måling",
            "Sådan kan et {term} ændre flertallet i Folketinget",
        ),
        sentences=(
            "En ny måling giver {party} {num} procent af stemmerne.",
            "{who} siger, at et {term} ikke er aktuelt lige nu.",
            "Kommentatorer peger på, at {term3} står svagere end for et år siden.",
            "Vælgerne i {place} er især optaget af sundhed og økonomi.",
        ),
        social=(
            "Udskriv {term} nu! {term2}",
            "Ny måling: {party} i frit fald {term2} {link}",
            "Hvem tror på {term} i år? {term2}",
            "Så er der debat i aften. Følg med! {term2} {link}",
        ),
    ),
    Topic(
        name="energi",
        terms=("vindmøller", "elpriser", "grøn omstilling"),
        weight=0.15,
        headlines=(
            "Borgere i {place} siger nej til nye {term}",
            "{term2} stiger igen: familier betaler {num} kroner mere",
            "{who}: {term} på havet er nøglen til {term3}",
            "Ny park med {term} skal forsyne {num} tusind husstande",
        ),
        sentences=(
            "Naboerne frygter støj og skygger fra de nye {term}.",
            "{who} peger på, at {term3} kræver mere strøm fra {term}.",
            "{term2} har været meget svingende hele efteråret.",
            "Energiselskabet vil investere {num} milliarder kroner i {place}.",
        ),
        social=(
            "{term} ja tak – men ikke i min baghave? Seriøst. {link}",
            "Mine {term2} er fordoblet. Det går ikke. {link}",
            "Flot ny park med {term}! Det er sådan {term3} ser ud #dkpol",
            "Hvorfor er {term2} så høje, når vi har så mange {term}? {link}",
        ),
    ),
    Topic(
        name="hverdag",  # what the design does not search for: filtered out or matched nothing
        terms=(),
        weight=0.1,
        headlines=(
            "FCK vinder derbyet i Parken",
            "Ny restaurant åbner på havnen i {place}",
            "Trafikkaos på motorvejen ved {place}",
            "Koncert i {place} trak {num} tusind gæster",
        ),
        sentences=(
            "Arrangørerne var meget tilfredse med fremmødet.",
            "Politiet opfordrer bilister til at køre forsigtigt.",
            "Billetterne blev udsolgt på under en time.",
        ),
        social=(
            "Sikke en kamp i aftes! 🔥",
            "Nogen der ved, om der er åbent i {place} i morgen?",
            "Kaffe og regn i {place}. Typisk dansk efterår ☕",
        ),
    ),
)

# Headlines and posts vary around their template as real ones do (and so rarely repeat
# word for word: the collector treats a repeated news title or author+text as the same item).
HEADLINE_PREFIXES = (
    "", "", "", "", "LIVE: ", "Analyse: ", "Overblik: ", "Kommentar: ", "Breaking: ",
    "Interview: ", "Debat: ", "Baggrund: ",
)  # fmt: skip
HEADLINE_SUFFIXES = (
    "", "", "", "", " – se reaktionerne", " i {place}", ": Det ved vi", " – kritikken vokser",
    " efter møde i {place}", " ({num} spørgsmål og svar)", " – eksperter er uenige",
    " – her er planen",
)  # fmt: skip
SOCIAL_PREFIXES = (
    "", "", "", "Altså. ", "Ærligt talt: ", "Tråd 🧵 ", "Hmm. ", "Vigtigt: ", "Lige set: ",
    "Godmorgen fra {place}. ", "Dagens pointe: ", "Uha. ",
)  # fmt: skip
SOCIAL_SUFFIXES = (
    "", "", "", " 🤔", " 👏", " 😡", " Enig?", " Del gerne.", " (via {place})", " #dkgreen",
    " #klima", " Mere følger.",
)  # fmt: skip

ENGLISH_SOCIAL = (
    "Interesting read on Danish politics and {term}: {link}",
    "Denmark's debate on {term} explained {link}",
)

# How a term is written in running text (search terms are lower case; matching ignores case).
WRITTEN = {"grønland": "Grønland", "selvstyret": "Selvstyret", "co2-afgift": "CO2-afgift"}

# The topic a spike is made of (a burst of posts on a few days).
SPIKE_TOPIC = "grønland"
