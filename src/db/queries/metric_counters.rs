//! Queries on `metric_counters`: the counters every process adds its increments to.

use diesel::prelude::*;
use diesel::sql_types::{Array, Double, Jsonb, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::DbError;

/// One counter sample.
#[derive(Clone, Debug, PartialEq, QueryableByName)]
pub struct CounterRow {
    /// The family (a histogram's sum: `<family>_sum`; its buckets carry an `le` label).
    #[diesel(sql_type = Text)]
    pub family: String,
    /// The labels, a JSON object of strings.
    #[diesel(sql_type = Jsonb)]
    pub labels: serde_json::Value,
    /// The total.
    #[diesel(sql_type = Double)]
    pub value: f64,
}

/// Adds increments to their counters in one statement (`labels` as JSON objects).
pub async fn add(
    conn: &mut AsyncPgConnection,
    increments: &[(String, String, f64)],
) -> Result<(), DbError> {
    if increments.is_empty() {
        return Ok(());
    }
    let families: Vec<&str> = increments.iter().map(|(f, _, _)| f.as_str()).collect();
    let labels: Vec<&str> = increments.iter().map(|(_, l, _)| l.as_str()).collect();
    let values: Vec<f64> = increments.iter().map(|(_, _, v)| *v).collect();
    diesel::sql_query(
        "INSERT INTO metric_counters (family, labels, value)
         SELECT family, labels::jsonb, value FROM unnest($1, $2, $3) AS i (family, labels, value)
         ON CONFLICT (family, labels) DO UPDATE
         SET value = metric_counters.value + excluded.value, updated_at = now()",
    )
    .bind::<Array<Text>, _>(families)
    .bind::<Array<Text>, _>(labels)
    .bind::<Array<Double>, _>(values)
    .execute(conn)
    .await?;
    Ok(())
}

/// Every counter, ordered by family and labels.
pub async fn all(conn: &mut AsyncPgConnection) -> Result<Vec<CounterRow>, DbError> {
    Ok(diesel::sql_query(
        "SELECT family, labels, value FROM metric_counters ORDER BY family, labels::text",
    )
    .load(conn)
    .await?)
}
