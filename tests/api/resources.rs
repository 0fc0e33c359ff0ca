//! A read-only resource declared in one place, outside the crate, and mounted with one line:
//! it gets its list and detail routes, its OpenAPI operations with every filter, the root's
//! link, the browsable page, and the 400s for unknown or malformed parameters — nothing
//! else is written for it.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use gitomatic::api::links::Links;
use gitomatic::api::resource::{Collection, Declaration, Operation, Resource};
use gitomatic::db::DbError;
use gitomatic::db::filter::{Field, Kind, ListQuery};
use gitomatic::db::paginate::{self, Page};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::helpers::spawn_app_serving;

/// Toys, a table only this test has.
struct Toys;

#[derive(QueryableByName)]
struct ToyRecord {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Integer>)]
    size: Option<i32>,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
}

/// A toy.
#[derive(Serialize, ToSchema)]
struct ToyView {
    url: String,
    id: Uuid,
    name: String,
    size: Option<i32>,
    created_at: DateTime<Utc>,
}

const TOY_FIELDS: &[Field] = &[
    Field::new("name", Kind::Text),
    Field::new("size", Kind::Integer),
    Field::new("created_at", Kind::Timestamp),
];

impl Resource for Toys {
    type Record = ToyRecord;
    type View = ToyView;
    type Scope = ();
    type Id = Uuid;

    const DECLARATION: Declaration = Declaration {
        name: "toys",
        path: "/toys/",
        singular: "toy",
        tag: "meta",
        fields: TOY_FIELDS,
        ordering: "name",
        list: Operation {
            id: "list_toys",
            summary: "Lists toys, by name.",
        },
        detail: Operation {
            id: "get_toy",
            summary: "One toy.",
        },
    };
    const ALL: () = ();

    fn view(record: ToyRecord, links: &Links) -> ToyView {
        ToyView {
            url: links.url(&format!("/github/toys/{}/", record.id)),
            id: record.id,
            name: record.name,
            size: record.size,
            created_at: record.created_at,
        }
    }

    async fn list(
        conn: &mut AsyncPgConnection,
        (): (),
        query: &ListQuery,
    ) -> Result<Page<ToyRecord>, DbError> {
        paginate::load(conn, "toys", None, query).await
    }

    async fn get(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<ToyRecord>, DbError> {
        use diesel::OptionalExtension;
        Ok(diesel::sql_query("SELECT * FROM toys WHERE id = $1")
            .bind::<SqlUuid, _>(id)
            .get_result(conn)
            .await
            .optional()?)
    }
}

/// The built-in resources and the toys: the one registration line.
fn with_toys() -> Vec<Collection> {
    let mut resources = gitomatic::api::resources();
    resources.push(Collection::of::<Toys>());
    resources
}

#[tokio::test]
async fn a_resource_declared_once_is_routed_documented_linked_browsable_and_checked() {
    let app = spawn_app_serving(with_toys).await;
    let mut conn = app.db.connect().await;
    diesel::sql_query(
        "CREATE TABLE toys (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text NOT NULL,
         size integer, created_at timestamptz NOT NULL DEFAULT now())",
    )
    .execute(&mut conn)
    .await
    .expect("toys table");
    diesel::sql_query(
        "INSERT INTO toys (name, size) VALUES ('yo-yo', 3), ('kite', 40), ('ball', 12), ('top', NULL)",
    )
    .execute(&mut conn)
    .await
    .expect("toys");
    let get = |path: &str| {
        let request = app.http.get(format!("{}{path}", app.address));
        async move { request.send().await.expect("request") }
    };

    // The list: ordered by the declared default, filtered by the declared fields.
    let list: Value = get("/github/toys/").await.json().await.expect("JSON");
    let names: Vec<&str> = list["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|toy| toy["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["ball", "kite", "top", "yo-yo"]);
    assert_eq!(list["count"], 4);
    let filtered: Value = get("/github/toys/?size__gte=10&ordering=-size")
        .await
        .json()
        .await
        .expect("JSON");
    let names: Vec<&str> = filtered["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|toy| toy["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["kite", "ball"]);

    // The detail, through the link the list gave.
    let kite_url = filtered["results"][0]["url"].as_str().expect("url");
    let kite: Value = app
        .http
        .get(kite_url)
        .send()
        .await
        .expect("detail")
        .json()
        .await
        .expect("JSON");
    assert_eq!(kite["name"], "kite");
    assert_eq!(kite["size"], 40);
    let missing = get(&format!("/github/toys/{}/", Uuid::new_v4())).await;
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.expect("JSON");
    assert!(
        body["error"]
            .as_str()
            .expect("error")
            .starts_with("No toy with id"),
        "{body}"
    );

    // 400s naming the parameter: an undeclared filter, a malformed value, a bad ordering.
    for (query, named) in [
        ("colour=red", "colour"),
        ("size__gte=big", "size__gte"),
        ("ordering=colour", "colour"),
        ("name__lte=b", "name__lte"),
    ] {
        let response = get(&format!("/github/toys/?{query}")).await;
        assert_eq!(response.status(), 400, "{query}");
        let body: Value = response.json().await.expect("JSON");
        assert!(
            body["error"].as_str().expect("error").contains(named),
            "{query}: {body}"
        );
    }

    // The root links it.
    let root: Value = get("/github/").await.json().await.expect("JSON");
    assert_eq!(root["toys"], format!("{}/github/toys/", app.address));

    // The document has both operations, every lookup of every field, and the schemas.
    let doc: Value = get("/github/swagger.json")
        .await
        .json()
        .await
        .expect("JSON");
    let list_op = &doc["paths"]["/github/toys/"]["get"];
    assert_eq!(list_op["operationId"], "list_toys");
    let parameters: Vec<&str> = list_op["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|parameter| parameter["name"].as_str().expect("name"))
        .collect();
    for expected in [
        "page",
        "page_size",
        "ordering",
        "format",
        "name",
        "name__contains",
        "name__isnull",
        "size",
        "size__lte",
        "size__gte",
        "size__isnull",
        "created_at__lte",
        "created_at__gte",
    ] {
        assert!(
            parameters.contains(&expected),
            "{expected} in {parameters:?}"
        );
    }
    assert_eq!(
        list_op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Page_ToyView"
    );
    assert_eq!(
        doc["paths"]["/github/toys/{id}/"]["get"]["operationId"],
        "get_toy"
    );
    assert!(doc["components"]["schemas"]["ToyView"].is_object());
    assert!(doc["components"]["schemas"]["Page_ToyView"].is_object());
    assert!(
        doc["components"]["schemas"]["RootView"]["required"]
            .as_array()
            .expect("required")
            .contains(&Value::from("toys"))
    );

    // The browsable page.
    let page = app
        .http
        .get(format!("{}/github/toys/", app.address))
        .header("Accept", "text/html")
        .send()
        .await
        .expect("HTML");
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/html")
    );
    let html = page.text().await.expect("HTML");
    assert!(html.contains("<title>toys"), "{html}");
    assert!(html.contains("yo-yo"), "{html}");
}
