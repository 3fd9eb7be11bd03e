//! Tenant isolation (issue 10, findings 1 and 3): data sources deleted and
//! created again across two accounts never serve another account's rows,
//! nor a deleted data source's, through any URL; a public data source's
//! staged version stays with its owner.

use serde_json::Value;

use crate::common::server::{access_id_of, link, location, JsonBody, TestServer};

/// One account, by one of its keys.
struct Tenant {
    label: &'static str,
    key: String,
}

/// A two-row CSV whose rows carry `marker` as their name, so that every
/// row read back says which account and which load it came from.
fn rows_marked(entity_type: &str, marker: &str) -> String {
    format!(
        "Bing Spatial Data Services, 1.0, {entity_type}\n\
         EntityID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\n\
         1,{marker},47.6,-122.1\n2,{marker},47.7,-122.2\n"
    )
}

fn load(server: &TestServer, tenant: &Tenant, name: &str, operation: &str, body: String) -> Value {
    load_with(server, tenant, name, operation, body, "")
}

fn load_with(server: &TestServer, tenant: &Tenant, name: &str, operation: &str, body: String, extra: &str) -> Value {
    let url = format!(
        "{}/Dataflows/LoadDataSource?dataSourceName={name}&loadOperation={operation}&input=csv&output=json&key={}{extra}",
        server.root, tenant.key
    );
    let response = server.client.post(url).body(body).send().unwrap();
    assert_eq!(response.status(), 201, "load of {name} by {}", tenant.label);
    let job = server.wait_job(&location(&response), &tenant.key);
    assert_eq!(job["status"], "Completed", "{job}");
    job
}

/// Waits until the tenant's account has no pending job.
fn wait_idle(server: &TestServer, tenant: &Tenant) {
    for _ in 0..1000 {
        let list = server.get(&format!("/REST/v1/Dataflows/ListJobs?key={}", tenant.key)).json_value();
        if list["resourceSets"][0]["resources"].as_array().unwrap().iter().all(|job| job["status"] != "Pending") {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("{}'s jobs stayed pending", tenant.label);
}

fn delete(server: &TestServer, tenant: &Tenant, access_id: &str, name: &str, extra: &str) {
    let url = format!("{}/data/{access_id}/{name}?key={}{extra}", server.root, tenant.key);
    assert_eq!(server.client.delete(url).send().unwrap().status(), 202, "delete of {name}");
    wait_idle(server, tenant);
}

/// A query for every row: the status, and the names of the rows returned.
fn query(server: &TestServer, access_id: &str, name: &str, entity_type: &str, key: &str, extra: &str) -> (u16, String) {
    let response = server.get(&format!(
        "/REST/v1/data/{access_id}/{name}/{entity_type}?spatialFilter=bbox(-90,-180,90,180)&$format=json&key={key}{extra}"
    ));
    (response.status().as_u16(), response.text().unwrap())
}

fn names_in(body: &str) -> Vec<String> {
    let value: Value = serde_json::from_str(body).unwrap_or_else(|error| panic!("{error}: {body}"));
    value["d"]["results"].as_array().unwrap().iter().map(|row| row["Name"].as_str().unwrap().to_owned()).collect()
}

/// A download by the owner, to the last byte.
fn download(server: &TestServer, tenant: &Tenant, access_id: &str, name: &str) -> (Value, String) {
    let response =
        server.get(&format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/{name}?output=json&key={}", tenant.key));
    assert_eq!(response.status(), 201, "download of {name}");
    let created = response.json_value()["resourceSets"][0]["resources"][0]["id"].as_str().unwrap().to_owned();
    let status_url = format!("{}/Dataflows/DataSourceDownload/{name}", server.root);
    let job = loop {
        let body = server.get(&format!("{status_url}?output=json&jobId={created}&key={}", tenant.key)).json_value();
        let job = body["resourceSets"][0]["resources"][0].clone();
        if job["status"] != "Pending" {
            break job;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    assert_eq!(job["status"], "Completed", "{job}");
    let url = link(&job, "output", Some("succeeded"));
    let text = server.get(&format!("{url}?jobId={created}&key={}", tenant.key)).text().unwrap();
    (job, text)
}

/// The exact report: A loads and queries `DsX`, deletes it; B loads `DsY`
/// and asks `DsY` for `DsX`'s entity type.
#[test]
fn finding_1_deleted_source_rows_never_reach_another_account() {
    let server = TestServer::start();
    let a = Tenant { label: "A", key: server.master_key.clone() };
    let b = Tenant { label: "B", key: server.create_key("other") };
    let x_job = load(&server, &a, "DsX", "complete", rows_marked("Secrets", "A-secret"));
    let x_access = access_id_of(&x_job);
    let (status, body) = query(&server, &x_access, "DsX", "Secrets", &a.key, "");
    assert_eq!((status, names_in(&body)), (200, vec!["A-secret".to_owned(); 2]));
    delete(&server, &a, &x_access, "DsX", "");

    let y_job = load(&server, &b, "DsY", "complete", rows_marked("Shops", "B-shop"));
    let y_access = access_id_of(&y_job);
    let (status, body) = query(&server, &y_access, "DsY", "Secrets", &b.key, "");
    assert_eq!(status, 404, "DsY has no entity type Secrets: {body}");
    assert!(!body.contains("A-secret"), "{body}");
    let (status, body) = query(&server, &y_access, "DsY", "Shops", &b.key, "");
    assert_eq!((status, names_in(&body)), (200, vec!["B-shop".to_owned(); 2]));
    let (status, body) = query(&server, &x_access, "DsX", "Secrets", &a.key, "");
    assert_eq!(status, 404, "DsX was deleted: {body}");
    let (_, downloaded) = download(&server, &b, &y_access, "DsY");
    assert!(downloaded.contains("B-shop") && !downloaded.contains("A-secret"), "{downloaded}");
}

/// What one account last did to its one data source.
struct Owned {
    tenant: Tenant,
    name: &'static str,
    /// (access id, entity type, marker) while the data source exists.
    live: Option<(String, String, String)>,
    /// Access ids and entity types of its deleted data sources.
    deleted: Vec<(String, String)>,
    /// Its load jobs, for the status and failed-rows probes.
    load_jobs: Vec<String>,
}

/// xorshift: a fixed, varied order of actions, the same on every run.
struct Steps(u64);

impl Steps {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

/// Two accounts create, query, download and delete a data source of the
/// same name in an interleaved order, with the entity types swapping
/// between loads. After
/// every step, each account's every probe of its own and the other's data
/// sources is checked: rows only ever come from the asking account's live
/// data source, and every other combination is a 401 or a 404.
#[test]
fn finding_1_recreated_sources_across_accounts_never_serve_foreign_or_deleted_rows() {
    let server = TestServer::start();
    let mut accounts = [
        Owned {
            tenant: Tenant { label: "A", key: server.master_key.clone() },
            name: "Places",
            live: None,
            deleted: Vec::new(),
            load_jobs: Vec::new(),
        },
        Owned {
            tenant: Tenant { label: "B", key: server.create_key("other") },
            name: "Places",
            live: None,
            deleted: Vec::new(),
            load_jobs: Vec::new(),
        },
    ];
    let mut steps = Steps(0x9e37_79b9_7f4a_7c15);
    for step in 0..40 {
        let actor = steps.next(2) as usize;
        let action = steps.next(4);
        let owned = &mut accounts[actor];
        match (&owned.live, action) {
            (None, _) | (Some(_), 0) => {
                let entity_type = if steps.next(2) == 0 { "Secrets" } else { "Shops" };
                let marker = format!("tenant{}-{step}", owned.tenant.label);
                let job = load(&server, &owned.tenant, owned.name, "complete", rows_marked(entity_type, &marker));
                owned.load_jobs.push(job["id"].as_str().unwrap().to_owned());
                owned.live = Some((access_id_of(&job), entity_type.to_owned(), marker));
            }
            (Some((access_id, _, marker)), 1) => {
                let (_, text) = download(&server, &owned.tenant, access_id, owned.name);
                assert_eq!(text.matches("<Name>").count(), 2, "{text}");
                assert_eq!(text.matches(&format!("<Name>{marker}</Name>")).count(), 2, "step {step}: {text}");
            }
            (Some((access_id, entity_type, _)), _) => {
                let (access_id, entity_type) = (access_id.clone(), entity_type.clone());
                delete(&server, &owned.tenant, &access_id, owned.name, "");
                owned.deleted.push((access_id, entity_type));
                owned.live = None;
            }
        }
        for asker in 0..2 {
            check_probes(&server, &accounts, asker, step);
        }
    }
    assert!(accounts.iter().all(|owned| owned.deleted.len() >= 3), "the order deletes and creates again");
}

/// Everything `asker` can ask about both accounts' data sources and jobs.
fn check_probes(server: &TestServer, accounts: &[Owned; 2], asker: usize, step: usize) {
    let key = &accounts[asker].tenant.key;
    for (owner, owned) in accounts.iter().enumerate() {
        let context = format!(
            "step {step}: {} asking about {}'s {}",
            accounts[asker].tenant.label, owned.tenant.label, owned.name
        );
        if let Some((access_id, live_type, marker)) = &owned.live {
            for entity_type in ["Secrets", "Shops"] {
                let (status, body) = query(server, access_id, owned.name, entity_type, key, "");
                match (owner == asker, entity_type == live_type) {
                    (true, true) => assert_eq!((status, names_in(&body)), (200, vec![marker.clone(); 2]), "{context}"),
                    (true, false) => assert_eq!(status, 404, "{context}: {body}"),
                    (false, _) => assert_eq!(status, 401, "{context}: {body}"),
                }
            }
            let (status, body) = query(server, access_id, owned.name, live_type, key, "&isStaging=1");
            assert_eq!(status, if owner == asker { 404 } else { 401 }, "{context}, no staged version: {body}");
        }
        for (access_id, entity_type) in &owned.deleted {
            for entity_type in [entity_type.as_str(), "Secrets", "Shops"] {
                let (status, body) = query(server, access_id, owned.name, entity_type, key, "");
                assert_eq!(status, 404, "{context}, deleted {access_id}: {body}");
            }
            let info = server.get(&format!("/REST/v1/data/{access_id}/{}?key={key}", owned.name));
            assert_eq!(info.status(), 404, "{context}, deleted {access_id}");
        }
        for job in &owned.load_jobs {
            let status = server.get(&format!("/REST/v1/Dataflows/LoadDataSource/{job}?output=json&key={key}"));
            let failed = server.get(&format!("/REST/v1/Dataflows/LoadDataSource/{job}/output/failed?key={key}"));
            if owner == asker {
                assert_eq!(status.status(), 200, "{context}");
                assert_eq!(failed.status(), 200, "{context}");
            } else {
                assert_eq!(status.status(), 401, "{context}");
                assert_eq!(failed.status(), 401, "{context}");
            }
        }
        // The download URLs carry only a name, which both accounts use:
        // they answer with the asker's own newest download of it.
        let foreign = &accounts[1 - asker];
        let mut foreign_ids: Vec<&str> = foreign.deleted.iter().map(|(access_id, _)| access_id.as_str()).collect();
        foreign_ids.extend(foreign.live.iter().map(|(access_id, _, _)| access_id.as_str()));
        for path in ["", "/output/succeeded", "/output/failed"] {
            let response = server
                .get(&format!("/REST/v1/Dataflows/DataSourceDownload/{}{path}?output=json&key={key}", owned.name));
            let text = response.text().unwrap();
            assert!(!text.contains(&format!("tenant{}-", foreign.tenant.label)), "{context}, download{path}: {text}");
            for access_id in &foreign_ids {
                assert!(!text.contains(access_id), "{context}, download{path}: {text}");
            }
        }
    }
}

/// "Public" opens the published version to every account; the staged
/// version stays with the data source's own keys.
#[test]
fn finding_3_a_public_sources_staged_version_stays_with_its_owner() {
    let server = TestServer::start();
    let a = Tenant { label: "A", key: server.master_key.clone() };
    let b = Tenant { label: "B", key: server.create_key("other") };
    let published = load_with(&server, &a, "Open", "complete", rows_marked("Shops", "published-row"), "&setPublic=1");
    let access_id = access_id_of(&published);
    load(&server, &a, "Open", "completeStaging", rows_marked("Shops", "staged-secret"));

    let (status, body) = query(&server, &access_id, "Open", "Shops", &b.key, "");
    assert_eq!((status, names_in(&body)), (200, vec!["published-row".to_owned(); 2]), "public: any key");
    for staged in ["&isStaging=1", "&isStaged=1", "&isStaging=true"] {
        let (status, body) = query(&server, &access_id, "Open", "Shops", &b.key, staged);
        assert_eq!(status, 401, "{staged}: {body}");
        assert!(!body.contains("staged-secret"), "{body}");
        let envelope: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(envelope["authenticationResultCode"], "NotAuthorized", "{body}");
    }
    for owner_key in [&a.key, &server.query_key] {
        let (status, body) = query(&server, &access_id, "Open", "Shops", owner_key, "&isStaging=1");
        assert_eq!((status, names_in(&body)), (200, vec!["staged-secret".to_owned(); 2]), "the owner's keys");
    }
    let download = server
        .get(&format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/Open?isStaging=1&output=json&key={}", b.key));
    assert_eq!(download.status(), 401);
}
