//! The FourthCoffeeSample-shaped data source the query pages query: our
//! own shops, in the columns of the query-by-ID page's `$metadata` and
//! response, kept as a table the tests compute expected answers from.

use std::fmt::Write as _;

use super::support::*;

pub const SAMPLE_NAME: &str = "FourthCoffeeSample";
pub const SAMPLE_TYPE: &str = "FourthCoffeeShops";

/// One coffee shop: our own values, in the columns of the query-by-ID
/// page's `$metadata` and response.
#[derive(Clone, Debug)]
pub struct Shop {
    pub id: &'static str,
    pub lat: f64,
    pub lon: f64,
    pub address: &'static str,
    pub city: &'static str,
    pub subdivision: &'static str,
    pub postal: &'static str,
    pub phone: &'static str,
    /// Empty in the docs' example (`"SecondaryCity":""`).
    pub secondary_city: &'static str,
    pub country: &'static str,
    pub manager: &'static str,
    pub store_type: &'static str,
    /// Null in the docs' example (`m:null="true"`).
    pub seating: Option<i64>,
    pub open: i64,
    pub close: i64,
    pub wifi: bool,
    pub wheelchair: bool,
    pub online: bool,
    pub cards: bool,
    pub created: &'static str,
    pub updated: &'static str,
}

impl Shop {
    pub fn number(&self) -> &str {
        self.id.trim_start_matches('-')
    }
    pub fn name(&self) -> String {
        format!("Fourth Coffee Store #{}", self.number())
    }
    pub fn display_name(&self) -> String {
        format!("Fourth Coffee Store #{}, {}, {}, {}", self.number(), self.city, self.subdivision, self.country)
    }
}

#[allow(clippy::too_many_arguments)] // one row of the fixture table
const fn shop(
    id: &'static str,
    lat: f64,
    lon: f64,
    address: &'static str,
    city: &'static str,
    subdivision: &'static str,
    postal: &'static str,
    country: &'static str,
    store_type: &'static str,
    flags: (bool, bool, bool, bool),
) -> Shop {
    Shop {
        id,
        lat,
        lon,
        address,
        city,
        subdivision,
        postal,
        phone: "555-0142",
        secondary_city: "",
        country,
        manager: "Dana Birk",
        store_type,
        seating: Some(24),
        open: 700,
        close: 1900,
        wifi: flags.0,
        wheelchair: flags.1,
        online: flags.2,
        cards: flags.3,
        created: "2011-04-02T00:00:00",
        updated: "2011-04-05T08:15:42",
    }
}

/// Shops around New Jersey (the area pages' bbox and nearby examples),
/// around Clearwater, FL (the property page's examples), one in Denmark
/// (the ID page's), some in Texas (the near-route page's) and Seattle
/// (the query sample code's).
pub fn shops() -> Vec<Shop> {
    let mut shops = vec![
        shop(
            "-9101",
            40.8012,
            -74.2401,
            "12 Bloom St",
            "Verona",
            "NJ",
            "07044",
            "United States",
            "Coffee Shop",
            (true, true, false, true),
        ),
        shop(
            "-9102",
            40.7905,
            -74.1902,
            "40 Mill Rd",
            "Montclair",
            "NJ",
            "07042",
            "United States",
            "Kiosk",
            (false, true, true, true),
        ),
        shop(
            "-9103",
            40.7950,
            -74.4003,
            "7 Ridge Ave",
            "Livingston",
            "NJ",
            "07039",
            "United States",
            "Coffee Shop",
            (true, false, false, true),
        ),
        shop(
            "-9104",
            40.8251,
            -74.2960,
            "3 Oak Ln",
            "West Orange",
            "NJ",
            "07052",
            "United States",
            "Coffee Shop",
            (true, true, true, true),
        ),
        shop(
            "-9105",
            40.8450,
            -74.2935,
            "88 Eagle Rock Ave",
            "Roseland",
            "NJ",
            "07068",
            "United States",
            "Drive-Thru",
            (false, false, false, true),
        ),
        shop(
            "-9106",
            40.8470,
            -74.2990,
            "19 Harrison Ave",
            "Roseland",
            "NJ",
            "07068",
            "United States",
            "Coffee Shop",
            (true, true, false, false),
        ),
        shop(
            "-9107",
            40.8260,
            -74.3560,
            "2 Ridgedale Ave",
            "East Hanover",
            "NJ",
            "07936",
            "United States",
            "Kiosk",
            (true, false, false, true),
        ),
        shop(
            "-9108",
            40.8290,
            -74.3620,
            "61 Columbia Tpke",
            "East Hanover",
            "NJ",
            "07936",
            "United States",
            "Coffee Shop",
            (true, true, true, true),
        ),
        shop(
            "-9109",
            40.8700,
            -74.4400,
            "5 Pine Brook Rd",
            "Montville",
            "NJ",
            "07045",
            "United States",
            "Coffee Shop",
            (false, true, false, true),
        ),
        shop(
            "-9110",
            40.9500,
            -74.1000,
            "1 Far Hills Rd",
            "Paterson",
            "NJ",
            "07501",
            "United States",
            "Coffee Shop",
            (true, true, false, true),
        ),
        shop(
            "-7611",
            27.894007,
            -82.670776,
            "100 Gulf Blvd",
            "Clearwater",
            "FL",
            "33760",
            "United States",
            "Coffee Shop",
            (false, true, true, true),
        ),
        shop(
            "-7602",
            27.8938,
            -82.6675,
            "210 Bay Dr",
            "Clearwater",
            "FL",
            "33760",
            "United States",
            "Coffee Shop",
            (true, true, false, true),
        ),
        shop(
            "-7603",
            27.8990,
            -82.6800,
            "55 Harbor Way",
            "Clearwater",
            "FL",
            "33761",
            "United States",
            "Coffee Shop",
            (false, false, false, true),
        ),
        shop(
            "-7604",
            27.9000,
            -82.6650,
            "9 Sand Key",
            "Clearwater Beach",
            "FL",
            "33767",
            "United States",
            "Kiosk",
            (true, false, false, true),
        ),
        shop(
            "-7605",
            27.9200,
            -82.7300,
            "300 Seminole Blvd",
            "Largo",
            "FL",
            "33770",
            "United States",
            "Coffee Shop",
            (false, true, false, true),
        ),
        shop(
            "-7606",
            27.9160,
            -82.7330,
            "77 Belleair Rd",
            "Clearwater",
            "FL",
            "33756",
            "United States",
            "Drive-Thru",
            (false, false, true, true),
        ),
        shop(
            "-9460",
            29.5330,
            -95.1240,
            "600 Bay Area Blvd",
            "Webster",
            "TX",
            "77598",
            "United States",
            "Coffee Shop",
            (true, true, false, true),
        ),
        shop(
            "-9510",
            29.5420,
            -95.0190,
            "4 Marina Dr",
            "Kemah",
            "TX",
            "77565",
            "United States",
            "Kiosk",
            (false, true, true, true),
        ),
        shop(
            "-9600",
            29.5450,
            -95.0600,
            "31 Shore Rd",
            "Seabrook",
            "TX",
            "77586",
            "United States",
            "Coffee Shop",
            (true, false, false, true),
        ),
        shop(
            "-9700",
            29.7000,
            -95.3000,
            "8 Main St",
            "Houston",
            "TX",
            "77002",
            "United States",
            "Coffee Shop",
            (true, true, true, true),
        ),
        shop(
            "-9801",
            47.6400,
            -122.3100,
            "20 Boat St",
            "Seattle",
            "WA",
            "98105",
            "United States",
            "Coffee Shop",
            (true, true, true, true),
        ),
        shop(
            "-9802",
            47.6300,
            -122.2900,
            "5 Lake Way",
            "Seattle",
            "WA",
            "98112",
            "United States",
            "Kiosk",
            (false, true, false, true),
        ),
    ];
    let mut denmark = shop(
        "-31067",
        57.046707,
        9.935932,
        "Bispensgade 9",
        "Aalborg",
        "Nordjylland",
        "9000",
        "Danmark",
        "Drive-Thru",
        (false, false, false, true),
    );
    denmark.seating = None;
    denmark.phone = "0800-55555";
    denmark.manager = "Ida Holm";
    denmark.created = "2010-11-03T00:00:00";
    denmark.updated = "2010-11-03T23:31:36";
    shops.push(denmark);
    shops
}

pub fn sample_shop(id: &str) -> Shop {
    shops().into_iter().find(|shop| shop.id == id).unwrap()
}

/// The CSV upload of [`shops`], columns in the query-by-ID page's order.
pub fn sample_csv() -> String {
    let mut csv = format!("Bing Spatial Data Services, 1.0, {SAMPLE_TYPE}\n");
    csv.push_str(
        "EntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double),AddressLine(Edm.String),\
PrimaryCity(Edm.String),Subdivision(Edm.String),PostalCode(Edm.String),Phone(Edm.String),SecondaryCity(Edm.String),\
CountryRegion(Edm.String),Name(Edm.String),DisplayName(Edm.String),Manager(Edm.String),StoreOpen(Edm.String),\
StoreType(Edm.String),SeatingCapacity(Edm.Int64),Open(Edm.Int64),Close(Edm.Int64),IsWiFiHotSpot(Edm.Boolean),\
IsWheelchairAccessible(Edm.Boolean),AcceptsOnlineOrders(Edm.Boolean),AcceptsCoffeeCards(Edm.Boolean),\
CreatedDate(Edm.DateTime),LastUpdatedDate(Edm.DateTime)\n",
    );
    for shop in shops() {
        let seating = shop.seating.map(|seats| seats.to_string()).unwrap_or_default();
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{},{},{},{},{},\"{}\",{},Y,{},{},{},{},{},{},{},{},{}Z,{}Z",
            shop.id,
            shop.lat,
            shop.lon,
            shop.address,
            shop.city,
            shop.subdivision,
            shop.postal,
            shop.phone,
            shop.secondary_city,
            shop.country,
            shop.name(),
            shop.display_name(),
            shop.manager,
            shop.store_type,
            seating,
            shop.open,
            shop.close,
            shop.wifi,
            shop.wheelchair,
            shop.online,
            shop.cards,
            shop.created,
            shop.updated
        );
    }
    csv
}

/// A server with the FourthCoffeeSample-shaped data source loaded.
pub struct Sample {
    pub server: TestServer,
    pub access_id: String,
}

impl Sample {
    pub fn start() -> Sample {
        Sample::start_with(&[])
    }

    pub fn start_with(flags: &[&str]) -> Sample {
        let server = TestServer::start_with(flags);
        let access_id = load_ok(&server, SAMPLE_NAME, "csv", &sample_csv());
        Sample { server, access_id }
    }

    /// The entity set URL with the docs' query string appended (`key=` is
    /// the query key, as in the docs).
    pub fn query(&self, query: &str) -> Reply {
        get(&self.server, &format!("{}?{query}", self.set_path()))
    }

    pub fn set_path(&self) -> String {
        format!("/REST/v1/data/{}/{SAMPLE_NAME}/{SAMPLE_TYPE}", self.access_id)
    }

    /// The entry URI the docs' responses give an entity.
    pub fn entry_uri(&self, id: &str) -> String {
        format!("{}/data/{}/{SAMPLE_NAME}/{SAMPLE_TYPE}('{id}')", self.server.root, self.access_id)
    }
}
