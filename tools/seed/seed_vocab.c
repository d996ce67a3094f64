/* seed_vocab.c — value sets of the synthetic dataset: the 41 analysis
 * neighborhoods with plausible assessor block ranges and streets, zoning and uses, permit
 * types and descriptions, plan-review stations with their shares and typical days, names. */
#include <string.h>

#include "seed_internal.h"

/* Weighted pick shared by every value set below. */
int rng_pick(seed_rng *r, const double *w, int n)
{
    double total = 0;
    for (int i = 0; i < n; i++) total += w[i];
    double x = rng_unit(r) * total;
    for (int i = 0; i < n; i++) {
        if (x < w[i]) return i;
        x -= w[i];
    }
    for (int i = n - 1; i >= 0; i--)
        if (w[i] > 0) return i;
    return 0;
}

const seed_nbhd seed_nbhds[] = {
    {"Russian Hill",
     2.5,
     "3",
     "94109",
     1,
     70,
     1,
     {{"HYDE", "ST"}, {"LARKIN", "ST"}, {"UNION", "ST"}, {"GREEN", "ST"}, {"VALLEJO", "ST"}, {"LEAVENWORTH", "ST"}}},
    {"North Beach",
     2.5,
     "3",
     "94133",
     70,
     150,
     2,
     {{"COLUMBUS", "AV"},
      {"STOCKTON", "ST"},
      {"GRANT", "AV"},
      {"POWELL", "ST"},
      {"FILBERT", "ST"},
      {"GREENWICH", "ST"}}},
    {"Chinatown",
     1.0,
     "3",
     "94108",
     150,
     190,
     2,
     {{"STOCKTON", "ST"},
      {"GRANT", "AV"},
      {"CLAY", "ST"},
      {"WASHINGTON", "ST"},
      {"SACRAMENTO", "ST"},
      {"JACKSON", "ST"}}},
    {"Nob Hill",
     2.5,
     "3",
     "94109",
     190,
     230,
     2,
     {{"CALIFORNIA", "ST"}, {"SACRAMENTO", "ST"}, {"JONES", "ST"}, {"TAYLOR", "ST"}, {"PINE", "ST"}, {"CLAY", "ST"}}},
    {"Financial District/South Beach",
     2.0,
     "3",
     "94111",
     230,
     300,
     2,
     {{"MONTGOMERY", "ST"},
      {"CALIFORNIA", "ST"},
      {"PINE", "ST"},
      {"BUSH", "ST"},
      {"SANSOME", "ST"},
      {"BATTERY", "ST"}}},
    {"Tenderloin",
     2.5,
     "5",
     "94102",
     300,
     370,
     2,
     {{"MASON", "ST"}, {"EDDY", "ST"}, {"ELLIS", "ST"}, {"O'FARRELL", "ST"}, {"TURK", "ST"}, {"JONES", "ST"}}},
    {"Marina",
     2.5,
     "2",
     "94123",
     400,
     540,
     1,
     {{"CHESTNUT", "ST"}, {"LOMBARD", "ST"}, {"UNION", "ST"}, {"FILLMORE", "ST"}, {"BEACH", "ST"}, {"MARINA", "BL"}}},
    {"Pacific Heights",
     3.0,
     "2",
     "94115",
     540,
     650,
     1,
     {{"PACIFIC", "AV"},
      {"JACKSON", "ST"},
      {"WASHINGTON", "ST"},
      {"BROADWAY", ""},
      {"FILLMORE", "ST"},
      {"DIVISADERO", "ST"}}},
    {"Japantown",
     0.7,
     "5",
     "94115",
     680,
     700,
     2,
     {{"POST", "ST"}, {"SUTTER", "ST"}, {"BUCHANAN", "ST"}, {"WEBSTER", "ST"}, {"GEARY", "BL"}}},
    {"Western Addition",
     3.0,
     "5",
     "94115",
     700,
     800,
     1,
     {{"MCALLISTER", "ST"},
      {"FULTON", "ST"},
      {"GOLDEN GATE", "AV"},
      {"DIVISADERO", "ST"},
      {"FELL", "ST"},
      {"SCOTT", "ST"}}},
    {"Hayes Valley",
     2.0,
     "5",
     "94102",
     800,
     870,
     1,
     {{"HAYES", "ST"}, {"GROVE", "ST"}, {"OCTAVIA", "ST"}, {"LAGUNA", "ST"}, {"FELL", "ST"}, {"OAK", "ST"}}},
    {"Presidio Heights",
     1.5,
     "2",
     "94118",
     900,
     1050,
     0,
     {{"WASHINGTON", "ST"},
      {"CLAY", "ST"},
      {"SPRUCE", "ST"},
      {"LOCUST", "ST"},
      {"JACKSON", "ST"},
      {"SACRAMENTO", "ST"}}},
    {"Presidio", 0.3, "2", "94129", 1050, 1100, 0, {{"LINCOLN", "BL"}, {"FUNSTON", "AV"}, {"PRESIDIO", "BL"}}},
    {"Lone Mountain/USF",
     1.5,
     "1",
     "94118",
     1100,
     1230,
     1,
     {{"TURK", "BL"}, {"GOLDEN GATE", "AV"}, {"PARKER", "AV"}, {"STANYAN", "ST"}, {"FULTON", "ST"}}},
    {"Haight Ashbury",
     2.5,
     "5",
     "94117",
     1230,
     1300,
     1,
     {{"HAIGHT", "ST"}, {"PAGE", "ST"}, {"ASHBURY", "ST"}, {"MASONIC", "AV"}, {"CLAYTON", "ST"}, {"WALLER", "ST"}}},
    {"Seacliff", 0.5, "1", "94121", 1300, 1310, 0, {{"SEA CLIFF", "AV"}, {"EL CAMINO DEL MAR", ""}, {"25TH", "AV"}}},
    {"Lincoln Park", 0.2, "1", "94121", 1310, 1320, 0, {{"EL CAMINO DEL MAR", ""}, {"SEAL ROCK", "DR"}}},
    {"Inner Richmond",
     4.0,
     "1",
     "94118",
     1340,
     1460,
     1,
     {{"CLEMENT", "ST"}, {"GEARY", "BL"}, {"ARGUELLO", "BL"}, {"LAKE", "ST"}, {"05TH", "AV"}, {"08TH", "AV"}}},
    {"Outer Richmond",
     4.5,
     "1",
     "94121",
     1460,
     1690,
     0,
     {{"BALBOA", "ST"}, {"CABRILLO", "ST"}, {"30TH", "AV"}, {"38TH", "AV"}, {"GEARY", "BL"}, {"ANZA", "ST"}}},
    {"Golden Gate Park",
     0.05,
     "1",
     "94117",
     1690,
     1700,
     0,
     {{"JOHN F KENNEDY", "DR"}, {"MARTIN LUTHER KING JR", "DR"}}},
    {"Inner Sunset",
     3.0,
     "7",
     "94122",
     1700,
     1800,
     0,
     {{"IRVING", "ST"}, {"JUDAH", "ST"}, {"09TH", "AV"}, {"08TH", "AV"}, {"LINCOLN", "WY"}, {"KIRKHAM", "ST"}}},
    {"Sunset/Parkside",
     10.0,
     "4",
     "94122",
     1800,
     2500,
     0,
     {{"NORIEGA", "ST"},
      {"TARAVAL", "ST"},
      {"24TH", "AV"},
      {"30TH", "AV"},
      {"19TH", "AV"},
      {"SANTIAGO", "ST"},
      {"JUDAH", "ST"}}},
    {"Castro/Upper Market",
     3.0,
     "8",
     "94114",
     2600,
     2700,
     1,
     {{"CASTRO", "ST"}, {"18TH", "ST"}, {"MARKET", "ST"}, {"NOE", "ST"}, {"DIAMOND", "ST"}, {"COLLINGWOOD", "ST"}}},
    {"Twin Peaks",
     1.0,
     "8",
     "94131",
     2700,
     2800,
     0,
     {{"TWIN PEAKS", "BL"}, {"PANORAMA", "DR"}, {"CLARENDON", "AV"}, {"PORTOLA", "DR"}, {"MARKET", "ST"}}},
    {"West of Twin Peaks",
     5.0,
     "7",
     "94127",
     2800,
     3100,
     0,
     {{"PORTOLA", "DR"},
      {"MONTEREY", "BL"},
      {"ULLOA", "ST"},
      {"DEWEY", "BL"},
      {"SAINT FRANCIS", "BL"},
      {"JUNIPERO SERRA", "BL"}}},
    {"Oceanview/Merced/Ingleside",
     4.0,
     "11",
     "94112",
     3100,
     3300,
     0,
     {{"OCEAN", "AV"}, {"BROAD", "ST"}, {"HOLLOWAY", "AV"}, {"RANDOLPH", "ST"}, {"SAN JOSE", "AV"}}},
    {"Mission",
     6.0,
     "9",
     "94110",
     3550,
     3700,
     1,
     {{"MISSION", "ST"}, {"VALENCIA", "ST"}, {"24TH", "ST"}, {"GUERRERO", "ST"}, {"FOLSOM", "ST"}, {"HARRISON", "ST"}}},
    {"South of Market",
     3.0,
     "6",
     "94103",
     3700,
     3800,
     2,
     {{"FOLSOM", "ST"}, {"HOWARD", "ST"}, {"HARRISON", "ST"}, {"BRYANT", "ST"}, {"07TH", "ST"}, {"MISSION", "ST"}}},
    {"Mission Bay",
     0.8,
     "6",
     "94158",
     3800,
     3890,
     2,
     {{"04TH", "ST"}, {"BERRY", "ST"}, {"CHANNEL", "ST"}, {"OWENS", "ST"}, {"16TH", "ST"}}},
    {"Potrero Hill",
     2.5,
     "10",
     "94107",
     3900,
     4200,
     3,
     {{"18TH", "ST"},
      {"20TH", "ST"},
      {"CONNECTICUT", "ST"},
      {"DE HARO", "ST"},
      {"MISSOURI", "ST"},
      {"WISCONSIN", "ST"}}},
    {"Bayview Hunters Point",
     6.0,
     "10",
     "94124",
     4500,
     5500,
     3,
     {{"03RD", "ST"}, {"PALOU", "AV"}, {"OAKDALE", "AV"}, {"QUESADA", "AV"}, {"NEWCOMB", "AV"}, {"INGALLS", "ST"}}},
    {"Bernal Heights",
     4.0,
     "9",
     "94110",
     5500,
     5800,
     1,
     {{"CORTLAND", "AV"}, {"FOLSOM", "ST"}, {"ANDOVER", "ST"}, {"PRENTISS", "ST"}, {"ELLSWORTH", "ST"}}},
    {"Portola",
     2.5,
     "9",
     "94134",
     5800,
     6000,
     0,
     {{"SAN BRUNO", "AV"}, {"SILVER", "AV"}, {"FELTON", "ST"}, {"BURROWS", "ST"}, {"BACON", "ST"}}},
    {"Excelsior",
     5.0,
     "11",
     "94112",
     6000,
     6400,
     0,
     {{"MISSION", "ST"}, {"GENEVA", "AV"}, {"PERSIA", "AV"}, {"RUSSIA", "AV"}, {"BRAZIL", "AV"}, {"ATHENS", "ST"}}},
    {"McLaren Park", 0.1, "10", "94134", 6400, 6410, 0, {{"MANSELL", "ST"}, {"JOHN F SHELLEY", "DR"}}},
    {"Visitacion Valley",
     2.0,
     "10",
     "94134",
     6410,
     6500,
     0,
     {{"LELAND", "AV"}, {"SUNNYDALE", "AV"}, {"RAYMOND", "AV"}, {"BAY SHORE", "BL"}, {"VISITACION", "AV"}}},
    {"Noe Valley",
     3.0,
     "8",
     "94114",
     6500,
     6700,
     1,
     {{"24TH", "ST"}, {"NOE", "ST"}, {"SANCHEZ", "ST"}, {"CHURCH", "ST"}, {"CASTRO", "ST"}, {"ELIZABETH", "ST"}}},
    {"Glen Park",
     1.5,
     "8",
     "94131",
     6700,
     6800,
     0,
     {{"DIAMOND", "ST"}, {"CHENERY", "ST"}, {"BOSWORTH", "ST"}, {"ARLINGTON", "ST"}, {"CHURCH", "ST"}}},
    {"Outer Mission",
     2.5,
     "11",
     "94112",
     6900,
     7100,
     0,
     {{"MISSION", "ST"}, {"ALEMANY", "BL"}, {"SAN JOSE", "AV"}, {"CAYUGA", "AV"}, {"NIAGARA", "AV"}}},
    {"Lakeshore",
     2.0,
     "7",
     "94132",
     7200,
     7400,
     0,
     {{"LAKE MERCED", "BL"}, {"SLOAT", "BL"}, {"FONT", "BL"}, {"19TH", "AV"}, {"GONZALEZ", "DR"}}},
    {"Treasure Island", 0.2, "6", "94130", 8700, 8800, 2, {{"AVENUE OF THE PALMS", ""}, {"CALIFORNIA", "AV"}}},
};
const int seed_nbhd_count = (int)(sizeof seed_nbhds / sizeof seed_nbhds[0]);

/* ---- assessor uses; permit_use is the permits.existing_use wording ---- */
const seed_use seed_uses[] = {
    {"SRES", "Single Family Residential", "D", "Dwelling", "1 family dwelling", 1, 1, 1, 3},
    {"MRES", "Multi-Family Residential", "F", "Flats & Duplex", "2 family dwelling", 2, 3, 2, 3},
    {"MRES", "Multi-Family Residential", "A", "Apartment", "apartments", 4, 60, 3, 8},
    {"COMR", "Commercial Retail", "CR", "Commercial Store", "retail sales", 0, 2, 1, 3},
    {"COMO", "Commercial Office", "OA", "Office", "office", 0, 0, 2, 30},
    {"COMH", "Commercial Hotel", "H", "Hotel", "tourist hotel/motel", 20, 200, 4, 12},
    {"IND", "Industrial", "I", "Industrial", "warehouse, no frnitur", 0, 0, 1, 2},
    {"MIXRES", "Mixed Residential/Commercial", "X", "Mixed Use", "apartments", 2, 40, 2, 7},
};
const int seed_use_count = (int)(sizeof seed_uses / sizeof seed_uses[0]);

static const char *const zonings[] = {"RH-1",  "RH-1(D)", "RH-2",  "RH-3",  "RM-1", "RM-2", "RM-4",    "NC-1", "NC-2",
                                      "NCT-3", "RC-4",    "C-3-O", "C-3-G", "MUR",  "MUO",  "PDR-1-G", "M-1",  "NC-3"};
#define NZONING ((int)(sizeof zonings / sizeof zonings[0]))

/* weights per profile over zonings[] */
static const double zoning_w[4][NZONING] = {
    {40, 15, 30, 3, 3, 0, 0, 6, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1},
    {8, 2, 35, 20, 12, 8, 0, 2, 6, 5, 0, 0, 0, 0, 0, 0, 0, 2},
    {0, 0, 2, 5, 5, 8, 15, 0, 3, 8, 18, 12, 8, 8, 6, 0, 0, 2},
    {25, 0, 15, 2, 2, 2, 0, 8, 0, 0, 0, 0, 0, 8, 0, 18, 12, 8},
};

const char *seed_zoning_name(int zoning)
{
    return zonings[zoning];
}
int seed_zoning_count(void)
{
    return NZONING;
}
int seed_pick_zoning(seed_rng *r, int profile)
{
    return rng_pick(r, zoning_w[profile], NZONING);
}

int seed_pick_use(seed_rng *r, int zoning)
{
    const char *z = zonings[zoning];
    if (!strncmp(z, "RH-1", 4)) return rng_chance(r, 0.92) ? 0 : 1;
    if (!strcmp(z, "RH-2")) return rng_chance(r, 0.45) ? 0 : 1;
    if (!strcmp(z, "RH-3")) return rng_range(r, 0, 2);
    if (!strncmp(z, "RM", 2)) return rng_chance(r, 0.3) ? 1 : 2;
    if (!strncmp(z, "NC", 2)) {
        static const double w[] = {10, 20, 20, 30, 0, 0, 0, 20};
        return rng_pick(r, w, seed_use_count);
    }
    if (!strncmp(z, "C-3", 3)) {
        static const double w[] = {0, 0, 15, 20, 40, 15, 0, 10};
        return rng_pick(r, w, seed_use_count);
    }
    if (!strcmp(z, "RC-4") || !strncmp(z, "MU", 2)) {
        static const double w[] = {2, 8, 45, 15, 10, 10, 0, 10};
        return rng_pick(r, w, seed_use_count);
    }
    return rng_chance(r, 0.7) ? 6 : 3; /* PDR / M-1 */
}

const char *const seed_status_names[ST_COUNT] = {"filed",   "plancheck", "approved",  "issued",     "complete",
                                                 "expired", "cancelled", "withdrawn", "reinstated", "suspend"};

const char *const seed_type_codes[8] = {"1", "2", "3", "4", "5", "6", "7", "8"};
const char *const seed_type_defs[8] = {"new construction",
                                       "new construction wood frame",
                                       "additions alterations or repairs",
                                       "sign - erect",
                                       "grade or quarry or fill or excavate",
                                       "demolitions",
                                       "wall or painted sign",
                                       "otc alterations permit"};

/* ---- descriptions per category; each text hits its severity keyword group ---- */
static const char *const d_seismic[] = {
    "voluntary seismic retrofit per ebb", "soft story retrofit per mandatory program",
    "foundation bolting and cripple wall bracing", "seismic upgrade of existing building"};
static const char *const d_fire[] = {"install fire sprinkler system", "upgrade fire alarm system",
                                     "replace fire escape", "fire rated corridor upgrade per nov"};
static const char *const d_adu[] = {"adu addition at ground floor per ordinance",
                                    "convert garage to accessory dwelling unit",
                                    "legalize in-law unit at ground floor"};
static const char *const d_new[] = {
    "erect new 4 story 8 unit residential building", "new construction of single family dwelling",
    "erect 6 story mixed use building with ground floor retail", "construct new 2 story dwelling"};
static const char *const d_kitchen[] = {"kitchen remodel and bathroom remodel", "kitchen remodel, no structural work",
                                        "bathroom remodel at (e) unit",
                                        "new kitchen and new bathroom at 2nd floor unit"};
static const char *const d_electrical[] = {"electrical service upgrade to 200 amps", "rewiring of dwelling",
                                           "panel upgrade and new circuits"};
static const char *const d_plumbing[] = {"replace water heater", "sewer lateral replacement",
                                         "repipe building water line", "new gas line to kitchen range"};
static const char *const d_structural[] = {"replace deteriorated beam and column", "new shear wall at garage",
                                           "retaining wall repair at rear yard"};
static const char *const d_windows[] = {"replace windows in kind", "replace front door and skylight",
                                        "window replacement, no change in size"};
static const char *const d_reroof[] = {"reroofing", "re-roof, comp shingles", "tear off and reroof"};
static const char *const d_solar[] = {"install solar pv system on roof",
                                      "install rooftop photovoltaic system with battery storage",
                                      "ev charger installation in garage"};
static const char *const d_demolition[] = {"demolish single family dwelling",
                                           "demolition of 2 story commercial building"};
static const char *const d_general[] = {"interior renovation of (e) unit",
                                        "comply with nov",
                                        "revision to approved permit",
                                        "dry rot repair at rear stairs",
                                        "tenant improvement, no change of use",
                                        "to obtain final inspection for work approved under expired permit",
                                        "replace (e) deck in kind"};
static const char *const d_sign[] = {"erect wall sign, non-illuminated", "install projecting sign"};
static const char *const d_grading[] = {"excavation and shoring for new foundation", "grading and fill of vacant lot"};

#define DESCS(a)                         \
    {                                    \
        a, (int)(sizeof a / sizeof a[0]) \
    }
static const struct {
    const char *const *texts;
    int n;
} descs[CAT_COUNT] = {DESCS(d_seismic), DESCS(d_fire),       DESCS(d_adu),      DESCS(d_new),
                      DESCS(d_kitchen), DESCS(d_electrical), DESCS(d_plumbing), DESCS(d_structural),
                      DESCS(d_windows), DESCS(d_reroof),     DESCS(d_solar),    DESCS(d_demolition),
                      DESCS(d_general), DESCS(d_sign),       DESCS(d_grading)};

int seed_desc_count(int cat)
{
    return descs[cat].n;
}
const char *seed_desc(int cat, int i)
{
    return descs[cat].texts[i];
}

int seed_pick_category(seed_rng *r, int type_idx)
{
    switch (type_idx) {
    case 0:
    case 1: return CAT_NEW;
    case 3:
    case 6: return CAT_SIGN;
    case 4: return CAT_GRADING;
    case 5: return CAT_DEMOLITION;
    default: break;
    }
    /* alterations ('3') and OTC ('8') */
    static const double w[CAT_COUNT] = {6, 5, 3, 0, 15, 7, 7, 4, 10, 10, 8, 0, 25, 0, 0};
    int c = rng_pick(r, w, CAT_COUNT);
    if (c == CAT_ADU && type_idx == 7) c = CAT_GENERAL; /* ADUs are never over the counter */
    return c;
}

/* ---- plan-review stations: shares of addenda rows (sec. 8.2) and mean days (sec. 3.8) ---- */
const seed_station seed_stations[] = {
    {"CPB", "DBI", "Central Permit Bureau", 28.0, 4.5},
    {"BLDG", "DBI", "Building Plan Review", 10.6, 3.2},
    {"CP-ZOC", "CPC", "Planning Zoning Review", 8.6, 6.4},
    {"SFFD", "SFFD", "Fire Department Plan Review", 7.9, 23.7},
    {"INTAKE", "DBI", "Application Intake", 6.9, 0.002},
    {"CNT-PC", "DBI", "Counter Plan Check", 5.9, 1.5},
    {"HIS", "DBI", "Housing Inspection Services", 3.9, 0.004},
    {"MECH", "DBI", "Mechanical Plan Review", 3.6, 4.5},
    {"DPW-BSM", "DPW", "Public Works Street-Use and Mapping", 3.4, 3.1},
    {"BID-INSP", "DBI", "Building Inspection Division", 3.1, 2.8},
    {"SFPUC", "PUC", "Public Utilities Commission", 2.3, 2.9},
    {"PAD-PC", "DBI", "Permit Application Desk Plan Check", 2.0, 5.0},
    {"PAD-MECH", "DBI", "Permit Application Desk Mechanical", 1.9, 4.0},
    {"PPC", "CPC", "Planning Plan Check", 1.5, 174.0},
    {"ONE-STOP", "DBI", "One Stop Permit Center", 1.3, 0.5},
    {"PERMIT-CTR", "DBI", "Permit Center", 1.5, 32.8},
    {"MECH-E", "DBI", "Mechanical/Electrical Plan Review", 1.0, 3.5},
    {"PAD-STR", "DBI", "Structural Plan Review", 0.8, 13.3},
    {"DPW-BUF", "DPW", "Public Works Urban Forestry", 0.7, 16.3},
    {"DPH", "DPH", "Public Health Plan Review", 0.7, 9.0},
    {"REDEV", "OCII", "Community Investment and Infrastructure", 0.5, 12.0},
};
const int seed_station_count = (int)(sizeof seed_stations / sizeof seed_stations[0]);

/* Same order as seed_stations[] (kept as a plain array for rng_pick). */
static const double station_w[] = {28.0, 10.6, 8.6, 7.9, 6.9, 5.9, 3.9, 3.6, 3.4, 3.1, 2.3,
                                   2.0,  1.9,  1.5, 1.3, 1.5, 1.0, 0.8, 0.7, 0.7, 0.5};
_Static_assert(sizeof station_w / sizeof station_w[0] == sizeof seed_stations / sizeof seed_stations[0],
               "station weights out of sync");

int seed_pick_station(seed_rng *r)
{
    return rng_pick(r, station_w, seed_station_count);
}

const char *const seed_first_names[] = {
    "JOHN",     "MARIA",   "DAVID",     "LINDA",    "MICHAEL", "SUSAN",   "JAMES",     "KAREN",    "ROBERT",  "LISA",
    "WILLIAM",  "NANCY",   "RICHARD",   "BETTY",    "JOSEPH",  "HELEN",   "THOMAS",    "SANDRA",   "CHARLES", "DONNA",
    "DANIEL",   "CAROL",   "MATTHEW",   "RUTH",     "ANTHONY", "SHARON",  "MARK",      "MICHELLE", "PAUL",    "LAURA",
    "STEVEN",   "SARAH",   "KEVIN",     "KIMBERLY", "BRIAN",   "DEBORAH", "GEORGE",    "JESSICA",  "EDWARD",  "SHIRLEY",
    "JOSE",     "CYNTHIA", "WEI",       "MEI",      "HUONG",   "MIGUEL",  "ANA",       "CARLOS",   "ROSA",    "PATRICK",
    "GRACE",    "KENNETH", "AMY",       "ERIC",     "ANGELA",  "STEPHEN", "MELISSA",   "ANDREW",   "REBECCA", "RAYMOND",
    "VIRGINIA", "GREGORY", "KATHLEEN",  "FRANK",    "PAMELA",  "HENRY",   "MARTHA",    "PETER",    "DEBRA",   "SAMUEL",
    "AMANDA",   "ALAN",    "STEPHANIE", "VICTOR",   "CAROLYN", "LUIS",    "CHRISTINE", "JUAN",     "MARIE",   "KENJI"};
const int seed_first_name_count = (int)(sizeof seed_first_names / sizeof seed_first_names[0]);

const char *const seed_last_names[] = {
    "SMITH",    "JOHNSON",   "WILLIAMS", "BROWN",    "JONES",    "GARCIA",   "MILLER",   "DAVIS",   "RODRIGUEZ",
    "MARTINEZ", "HERNANDEZ", "LOPEZ",    "GONZALEZ", "WILSON",   "ANDERSON", "THOMAS",   "TAYLOR",  "MOORE",
    "JACKSON",  "MARTIN",    "LEE",      "PEREZ",    "THOMPSON", "WHITE",    "HARRIS",   "SANCHEZ", "CLARK",
    "RAMIREZ",  "LEWIS",     "ROBINSON", "WALKER",   "YOUNG",    "ALLEN",    "KING",     "WRIGHT",  "SCOTT",
    "TORRES",   "NGUYEN",    "HILL",     "FLORES",   "GREEN",    "ADAMS",    "NELSON",   "BAKER",   "HALL",
    "RIVERA",   "CAMPBELL",  "MITCHELL", "CARTER",   "ROBERTS",  "CHAN",     "WONG",     "CHEN",    "LAM",
    "LIU",      "HUANG",     "WU",       "YEE",      "TAM",      "NG",       "LEUNG",    "FONG",    "QUAN",
    "TRAN",     "LE",        "PHAM",     "O'BRIEN",  "MURPHY",   "KELLY",    "SULLIVAN", "RYAN",    "COHEN",
    "KAPLAN",   "SHAPIRO",   "ROSSI",    "RUSSO",    "BIANCHI",  "TANAKA",   "NAKAMURA", "KIM",     "PARK",
    "CHOI",     "PATEL",     "SHAH",     "SINGH",    "IVANOV",   "PETROV",   "MORALES",  "ORTIZ",   "GUTIERREZ",
    "CHAVEZ",   "RAMOS",     "REYES",    "CRUZ"};
const int seed_last_name_count = (int)(sizeof seed_last_names / sizeof seed_last_names[0]);

const char *const seed_firm_words[] = {
    "GOLDEN GATE", "BAY AREA",    "PACIFIC",      "MISSION",    "SUNSET",    "PRESIDIO", "TWIN PEAKS", "BAYSIDE",
    "CITYWIDE",    "NOB HILL",    "EMBARCADERO",  "HARBOR",     "SUMMIT",    "PIONEER",  "LANDMARK",   "KEYSTONE",
    "CORNERSTONE", "REDWOOD",     "CYPRESS",      "FOGHORN",    "TELEGRAPH", "POTRERO",  "DIAMOND",    "MARINA",
    "CASTRO",      "EXCELSIOR",   "BERNAL",       "RICHMOND",   "SEACLIFF",  "ALAMO",    "LINCOLN",    "FRANCISCAN",
    "PORTOLA",     "YERBA BUENA", "ANGEL ISLAND", "OCEAN BEACH"};
const int seed_firm_word_count = (int)(sizeof seed_firm_words / sizeof seed_firm_words[0]);

const char *const seed_role_names[ROLE_COUNT] = {"contractor", "agent", "architect",  "engineer",
                                                 "owner",      "other", "consultant", "designer"};
