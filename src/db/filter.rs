//! Django-style list queries: `field=value`, `__lte`, `__gte`, `__isnull`, `__contains`,
//! `ordering=[-]field`, built into SQL with bound values over whitelisted columns.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::query_builder::BoxedSqlQuery;
use diesel::sql_types::{BigInt, Bool, Double, Text, Timestamptz};
use serde_json::Value as Json;

use crate::db::cursor::{Cursor, Position};

/// The type of a filterable column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Text: exact, `__contains` (case-insensitive), `__isnull`.
    Text,
    /// Integer: exact, `__lte`, `__gte`, `__isnull`.
    Integer,
    /// Timestamp (RFC 3339 or a date): exact, `__lte`, `__gte`, `__isnull`.
    Timestamp,
    /// A floating-point number (a score): orderable only, no filter. A cursor carries its
    /// position as PostgreSQL's text of the value (exact, shortest round-trip digits), not
    /// as a JSON number, which a parser may round.
    Float,
    /// Boolean (`true`/`false`): exact, `__isnull`.
    Boolean,
    /// Text restricted to these values (an enumeration): exact, `__isnull`; any other
    /// value is rejected rather than matching nothing.
    Choice(&'static [&'static str]),
    /// An array of texts (labels, logins): `__contains` only, an element equal to the
    /// value (`t.field @> ARRAY[value]`); not orderable.
    TextArray,
    /// A switch (`true`/`false`, exact only, not orderable) over the nullable column named
    /// here: rows where that column is set are left out unless the switch is `true`; a
    /// query that does not name it counts as `false` (`include_deleted` over `deleted_at`).
    Include(&'static str),
    /// Full-text search (`search=words`, SPEC-3 C) over the table's `search` tsvector,
    /// which a trigger keeps from the columns `over` names: every word of the value
    /// (maximal runs of letters and digits) must be a prefix of a stored word, case- and
    /// accent-insensitively; the value is normalised by the same SQL function as the
    /// stored text. Exact only, not orderable; without an `ordering` the list comes by
    /// relevance, the row whose `exact` column equals the whole value first, and `exact`
    /// breaks ties.
    Search {
        /// The searched columns, for the documentation (`login, name, bio`).
        over: &'static str,
        /// The column an exact match is tested on, and ties are broken by.
        exact: &'static str,
    },
}

/// One column that lists can be filtered and ordered by; the name is the column's.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    /// Column and query-parameter name.
    pub name: &'static str,
    /// Its type.
    pub kind: Kind,
}

impl Field {
    /// A field of a kind.
    pub const fn new(name: &'static str, kind: Kind) -> Self {
        Self { name, kind }
    }

    /// The lookups this field accepts, as query-parameter suffixes (`""` is exact).
    pub fn lookups(&self) -> &'static [&'static str] {
        match self.kind {
            Kind::Text => &["", "__contains", "__isnull"],
            Kind::Integer | Kind::Timestamp => &["", "__lte", "__gte", "__isnull"],
            Kind::Boolean | Kind::Choice(_) => &["", "__isnull"],
            Kind::TextArray => &["__contains"],
            Kind::Include(_) | Kind::Search { .. } => &[""],
            Kind::Float => &[],
        }
    }

    /// Whether lists can be ordered by this field (arrays and switches cannot).
    pub fn orderable(&self) -> bool {
        !matches!(
            self.kind,
            Kind::TextArray | Kind::Include(_) | Kind::Search { .. }
        )
    }
}

/// How a filter compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lookup {
    Exact,
    Contains,
    Lte,
    Gte,
    IsNull,
}

/// A parsed filter value.
#[derive(Clone, Debug)]
enum Value {
    Text(String),
    Integer(i64),
    Timestamp(DateTime<Utc>),
    Boolean(bool),
    Float(f64),
}

/// One parsed `field__lookup=value` condition.
#[derive(Clone, Debug)]
pub struct Filter {
    field: Field,
    lookup: Lookup,
    value: Value,
}

/// The order of a list: a field, descending or not, then `id` as tie-breaker in the same
/// direction, so that one b-tree on `(field, id)` serves both directions. Rows without a
/// value come last either way (see [`Segment`]).
#[derive(Clone, Copy, Debug)]
pub struct Ordering {
    field: Field,
    descending: bool,
}

/// A validated list request: filters, order and page.
#[derive(Clone, Debug)]
pub struct ListQuery {
    /// Conditions, all of which must hold.
    pub filters: Vec<Filter>,
    /// Sort order.
    pub ordering: Ordering,
    /// 1-based page number.
    pub page: u32,
    /// Items per page.
    pub page_size: u32,
    /// Where a cursor page starts (`?cursor=`), already checked against this list and
    /// ordering; `page` is then ignored.
    pub cursor: Option<Cursor>,
    /// Whether the list comes by relevance (a search without an `ordering`), then
    /// `ordering` is not used, pages are numbered only and cover the matches ranked (see
    /// [`ranked_sql`]).
    pub ranked: bool,
}

/// How many matches of a search a relevance-ordered list ranks when it matches too many to
/// count (besides the exact matches, which always come first). Ranking reads every row it
/// ranks: at 200,000 developers, ranking 10,000 matches of `berlin` took 31 ms, 1,000 took
/// 7 ms.
pub const RANKED_MATCHES: i64 = 1_000;

/// The fixed eighth of a searchable table's rows (by a hash of the row id) that a search
/// matching far more than [`RANKED_MATCHES`] may take its ranked matches from: each such
/// table has a GIN index on its search vector under this predicate (migration
/// `search_sample`), so the search's bitmap holds an eighth of its matches.
pub const SEARCH_SAMPLE: &str = "(uuid_hash(t.id) & 7) = 0";

/// Which matches a relevance page ranks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidates {
    /// At most this many, besides the exact matches (which are all ranked).
    pub limit: i64,
    /// Whether they come from the [`SEARCH_SAMPLE`] only (the exact matches never do).
    pub sampled: bool,
}

/// Deepest row offset served; deeper pages need narrower filters.
pub const MAX_OFFSET: u64 = 1_000_000;

impl ListQuery {
    /// The values of the exact filters on the field `name` (`name=value`), in order.
    pub fn exact_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.filters.iter().filter_map(move |filter| match filter {
            Filter {
                field,
                lookup: Lookup::Exact,
                value: Value::Text(text),
            } if field.name == name => Some(text.as_str()),
            _ => None,
        })
    }

    /// The search of this list (`search=words`) and the field it searches, if any.
    pub fn search(&self) -> Option<(&str, Field)> {
        self.filters.iter().find_map(|filter| match filter {
            Filter {
                field:
                    field @ Field {
                        kind: Kind::Search { .. },
                        ..
                    },
                value: Value::Text(text),
                ..
            } => Some((text.as_str(), *field)),
            _ => None,
        })
    }

    /// The bounds the filters put on the integer field `name` (`__gte`, `__lte`, exact):
    /// the greatest lower and the least upper one.
    pub fn integer_bounds(&self, name: &str) -> (Option<i64>, Option<i64>) {
        let (mut low, mut high) = (None::<i64>, None::<i64>);
        for filter in self.filters.iter().filter(|f| f.field.name == name) {
            let Value::Integer(value) = filter.value else {
                continue;
            };
            let (raise, lower) = match filter.lookup {
                Lookup::Gte => (true, false),
                Lookup::Lte => (false, true),
                Lookup::Exact => (true, true),
                Lookup::Contains | Lookup::IsNull => (false, false),
            };
            if raise {
                low = Some(low.map_or(value, |low| low.max(value)));
            }
            if lower {
                high = Some(high.map_or(value, |high| high.min(value)));
            }
        }
        (low, high)
    }

    /// Whether this is the whole list ordered by `name`, either way: no filter, that field.
    pub fn is_unfiltered_by(&self, name: &str) -> bool {
        self.filters.is_empty() && self.ordering.field.name == name
    }

    /// Rows skipped before this page (none for a cursor page: it starts at its position).
    pub fn offset(&self) -> u64 {
        if self.cursor.is_some() {
            return 0;
        }
        u64::from(self.page.saturating_sub(1)) * u64::from(self.page_size)
    }
}

impl Filter {
    /// Parses `key=raw` as [`Filter::parse`] does, except that an empty value (nothing but
    /// whitespace) is no filter at all, as django-filter reads it: a form submits its empty
    /// fields. The key must still be one of the list's parameters.
    pub fn parse_unless_empty(
        fields: &[Field],
        key: &str,
        raw: &str,
    ) -> Result<Option<Filter>, String> {
        if raw.trim().is_empty() {
            Self::resolve(fields, key)?;
            return Ok(None);
        }
        // A search of separators only has no word: it filters nothing either. (The SQL
        // function that reads the words agrees; should it ever find none where Rust saw a
        // letter, its condition still filters nothing.)
        if matches!(Self::resolve(fields, key)?.0.kind, Kind::Search { .. })
            && !raw.chars().any(char::is_alphanumeric)
        {
            return Ok(None);
        }
        Self::parse(fields, key, raw).map(Some)
    }

    /// The field and lookup a parameter name means, or an error naming it.
    fn resolve(fields: &[Field], key: &str) -> Result<(Field, Lookup), String> {
        let (name, lookup) = match key.rsplit_once("__") {
            Some((name, "contains")) => (name, Lookup::Contains),
            Some((name, "lte")) => (name, Lookup::Lte),
            Some((name, "gte")) => (name, Lookup::Gte),
            Some((name, "isnull")) => (name, Lookup::IsNull),
            _ => (key, Lookup::Exact),
        };
        let field = fields
            .iter()
            .find(|field| field.name == name)
            .copied()
            .ok_or_else(|| format!("Unknown filter: {key}"))?;
        let suffix = key.strip_prefix(name).unwrap_or("");
        if !field.lookups().contains(&suffix) {
            let accepted: Vec<String> = field
                .lookups()
                .iter()
                .map(|l| format!("{name}{l}"))
                .collect();
            return Err(if accepted.is_empty() {
                format!("Unknown filter: {key} ({name} orders lists but filters none)")
            } else {
                format!(
                    "Unknown filter: {key} ({name} accepts {})",
                    accepted.join(", ")
                )
            });
        }
        Ok((field, lookup))
    }

    /// Parses `key=raw` against the fields of a list; the error names the parameter.
    pub fn parse(fields: &[Field], key: &str, raw: &str) -> Result<Filter, String> {
        let (field, lookup) = Self::resolve(fields, key)?;
        let invalid = |expected: &str| {
            format!(
                "Invalid value for {key}: expected {expected}, got {:?}",
                raw.chars().take(100).collect::<String>()
            )
        };
        let value = match (lookup, field.kind) {
            (Lookup::IsNull, _) => {
                Value::Boolean(parse_bool(raw).ok_or_else(|| invalid("true or false"))?)
            }
            (_, Kind::Text | Kind::TextArray | Kind::Search { .. }) => {
                if raw.contains('\0') {
                    return Err(invalid("text without NUL characters"));
                }
                Value::Text(raw.to_owned())
            }
            (_, Kind::Integer) => {
                Value::Integer(raw.trim().parse().map_err(|_| invalid("an integer"))?)
            }
            (_, Kind::Float) => Value::Float(
                raw.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|value| value.is_finite())
                    .ok_or_else(|| invalid("a number"))?,
            ),
            (_, Kind::Timestamp) => Value::Timestamp(
                parse_time(raw)
                    .ok_or_else(|| invalid("an RFC 3339 date-time or a YYYY-MM-DD date"))?,
            ),
            (_, Kind::Boolean | Kind::Include(_)) => {
                Value::Boolean(parse_bool(raw).ok_or_else(|| invalid("true or false"))?)
            }
            (_, Kind::Choice(values)) => match values.iter().find(|value| **value == raw) {
                Some(value) => Value::Text((*value).to_owned()),
                None => return Err(invalid(&format!("one of {}", values.join(", ")))),
            },
        };
        Ok(Filter {
            field,
            lookup,
            value,
        })
    }
}

impl Filter {
    /// The field this filter is on.
    pub fn field(&self) -> Field {
        self.field
    }

    /// The filters a list applies for the switches its query does not name: each
    /// [`Kind::Include`] field of `fields` missing from `given`, as `false`.
    pub fn defaults(fields: &[Field], given: &[Filter]) -> Vec<Filter> {
        fields
            .iter()
            .filter(|field| matches!(field.kind, Kind::Include(_)))
            .filter(|field| !given.iter().any(|filter| filter.field.name == field.name))
            .map(|field| Filter {
                field: *field,
                lookup: Lookup::Exact,
                value: Value::Boolean(false),
            })
            .collect()
    }
}

impl Ordering {
    /// The ordering field's name (without the direction).
    pub fn field_name(&self) -> &'static str {
        self.field.name
    }

    /// The ordering as a query parameter gives it: `field` or `-field`.
    pub fn name(&self) -> String {
        format!(
            "{}{}",
            if self.descending { "-" } else { "" },
            self.field.name
        )
    }

    /// Checks that a cursor's position is a value of this ordering's field (and an id):
    /// the error names what does not fit.
    pub fn check_position(&self, position: &Position) -> Result<(), String> {
        if !position.key.is_null() && key_value(self.field.kind, &position.key).is_none() {
            return Err(format!(
                "Invalid cursor: its position is not a value of {}",
                self.field.name
            ));
        }
        row_id(&position.id)
            .map(|_| ())
            .ok_or_else(|| "Invalid cursor: its position names no row id".to_owned())
    }

    /// The index ranges a page walks, in order, starting at the list's first row or after
    /// `from` (before it, walking back, when `backwards`).
    ///
    /// The list is the rows with a key in the ordering's direction, then the rows without
    /// one (NULLS LAST either way, as the lists always were). Each part is one range of the
    /// `(field, id)` index, walked forward or backward; a NULLS LAST descending order is no
    /// single range of that index, two are.
    pub fn segments(&self, from: Option<&Position>, backwards: bool) -> Vec<Segment> {
        let descending = self.descending != backwards;
        let keyed = |after: Option<Position>| Segment {
            nulls: false,
            descending,
            after,
        };
        let nulls = |after: Option<Position>| Segment {
            nulls: true,
            descending,
            after,
        };
        match (from, backwards) {
            (None, false) => vec![keyed(None), nulls(None)],
            (None, true) => vec![nulls(None), keyed(None)],
            (Some(at), false) if at.key.is_null() => vec![nulls(Some(at.clone()))],
            (Some(at), false) => vec![keyed(Some(at.clone())), nulls(None)],
            (Some(at), true) if at.key.is_null() => {
                vec![nulls(Some(at.clone())), keyed(None)]
            }
            (Some(at), true) => vec![keyed(Some(at.clone()))],
        }
    }

    /// Parses `ordering=[-]field`.
    pub fn parse(fields: &[Field], raw: &str) -> Result<Ordering, String> {
        let (descending, name) = match raw.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, raw),
        };
        fields
            .iter()
            .filter(|field| field.orderable())
            .find(|field| field.name == name)
            .map(|field| Ordering {
                field: *field,
                descending,
            })
            .ok_or_else(|| {
                format!(
                    "Invalid ordering: {raw} (order by one of {}, with - for descending)",
                    fields
                        .iter()
                        .filter(|f| f.orderable())
                        .map(|f| f.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }
}

fn parse_bool(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(raw) {
        return Some(time.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()?
        .and_hms_opt(0, 0, 0)
        .map(|time| time.and_utc())
}

/// Escapes `%`, `_` and `\` for a LIKE pattern.
fn like_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// A boxed raw query with explicit `$n` placeholders.
pub type Sql = BoxedSqlQuery<'static, Pg, diesel::query_builder::SqlQuery>;

/// Which rows of a table a list shows, before its filters.
#[derive(Clone, Copy, Debug)]
pub enum Scope {
    /// Every row.
    All,
    /// Rows meeting a fixed condition on `t` (no bound value).
    Where(&'static str),
    /// Rows meeting a condition on `t` with `$1` bound to an id (sub-collections).
    Of(&'static str, uuid::Uuid),
}

impl From<Option<(&'static str, uuid::Uuid)>> for Scope {
    fn from(scope: Option<(&'static str, uuid::Uuid)>) -> Self {
        scope.map_or(Scope::All, |(condition, id)| Scope::Of(condition, id))
    }
}

/// `SELECT {select} FROM {table} t WHERE <scope> AND <filters>`, returning the query and
/// the number of placeholders bound. Identifiers come from the static field lists only.
fn filtered(select: &str, table: &'static str, scope: Scope, query: &ListQuery) -> (Sql, usize) {
    filtered_within("", select, table, scope, query)
}

/// [`filtered`] preceded by `prefix` (an enclosing query the caller closes).
fn filtered_within(
    prefix: &str,
    select: &str,
    table: &'static str,
    scope: Scope,
    query: &ListQuery,
) -> (Sql, usize) {
    let sql = diesel::sql_query(format!("{prefix}SELECT {select} FROM {table} t WHERE true"))
        .into_boxed::<Pg>();
    conditions(sql, 0, scope, query)
}

/// Appends ` AND <scope> AND <filters>` to `sql`, whose placeholders so far are `$1` to
/// `$bound`; returns it and the number of placeholders then bound.
fn conditions(mut sql: Sql, bound: usize, scope: Scope, query: &ListQuery) -> (Sql, usize) {
    let mut n = bound;
    let mut next = || {
        n += 1;
        format!("${n}")
    };
    match scope {
        Scope::All => {}
        Scope::Where(condition) => sql = sql.sql(format!(" AND ({condition})")),
        Scope::Of(condition, id) => {
            sql = sql
                .sql(format!(" AND ({})", condition.replace("$1", &next())))
                .bind::<diesel::sql_types::Uuid, _>(id);
        }
    }
    for filter in &query.filters {
        if let Kind::Include(column) = filter.field.kind {
            if matches!(filter.value, Value::Boolean(false)) {
                sql = sql.sql(format!(" AND t.{column} IS NULL"));
            }
            continue;
        }
        let column = format!("t.{}", filter.field.name);
        if let (Kind::Search { .. }, Value::Text(text)) = (filter.field.kind, &filter.value) {
            // The query is a constant of the statement (an IMMUTABLE function of a bound
            // value), so the planner folds it: `IS NULL` (a search without a word) then
            // filters nothing, and otherwise drops out, leaving the GIN index condition.
            let at = next();
            sql = sql
                .sql(format!(
                    " AND ({column} @@ gitomatic_search_query({at}) \
                     OR gitomatic_search_query({at}) IS NULL)"
                ))
                .bind::<Text, _>(text.clone());
            continue;
        }
        sql = match (&filter.lookup, &filter.value) {
            (Lookup::IsNull, Value::Boolean(true)) => sql.sql(format!(" AND {column} IS NULL")),
            (Lookup::IsNull, _) => sql.sql(format!(" AND {column} IS NOT NULL")),
            (Lookup::Contains, Value::Text(text)) if filter.field.kind == Kind::TextArray => sql
                .sql(format!(" AND {column} @> ARRAY[{}]::text[]", next()))
                .bind::<Text, _>(text.clone()),
            (Lookup::Contains, Value::Text(text)) => sql
                .sql(format!(" AND {column} ILIKE {}", next()))
                .bind::<Text, _>(format!("%{}%", like_escape(text))),
            (lookup, value) => {
                let op = match lookup {
                    Lookup::Lte => "<=",
                    Lookup::Gte => ">=",
                    _ => "=",
                };
                bind_value(sql.sql(format!(" AND {column} {op} {}", next())), value)
            }
        };
    }
    (sql, n)
}

/// One index range of a list's walk: the rows with a key or those without one, walked in
/// one direction, strictly after a position when it has one.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    /// The rows whose ordering key is NULL (else those with one).
    pub nulls: bool,
    /// The walk's direction, for the key and the `id` alike.
    pub descending: bool,
    /// The row the walk starts after.
    pub after: Option<Position>,
}

/// Up to `limit` rows of one [`Segment`] of `table`, skipping `offset`, as a deferred join:
/// the walk reads only the key and the id (`SELECT t.<key>, t.id FROM {table} t WHERE
/// <scope> AND <filters> AND t.<key> IS [NOT] NULL [AND (t.<key>, t.id) > (key, id)] ORDER
/// BY t.<key>, t.id LIMIT .. OFFSET ..`, `<` and `DESC` walking down: one range of the
/// `(key, id)` index, read no further than the page needs, and index-only where the
/// filters allow), then the page's rows alone are read whole, with their positions
/// (`to_jsonb` of the key and the id as `cursor_key` and `cursor_id`). The rows an offset
/// skips are neither fetched from the table nor projected.
pub fn segment_sql(
    table: &'static str,
    columns: &str,
    scope: Scope,
    query: &ListQuery,
    segment: &Segment,
    limit: u64,
    offset: u64,
) -> Sql {
    let walked = Walked {
        key: query.ordering.field.name,
        id: "id",
    };
    let shown = Shown { table, columns };
    segment_sql_on(shown, table, scope, query, walked, segment, limit, offset)
}

/// The columns a walk reads its position from: the ordering key and the row id, as the
/// table names them (a list's own `field` and `id`; a follow edge's copy of the listed
/// side's creation date and its id).
#[derive(Clone, Copy, Debug)]
pub struct Walked {
    /// The column holding the ordering key.
    pub key: &'static str,
    /// The column holding the row id.
    pub id: &'static str,
}

/// What a walk's page shows: `columns` of the rows of `table` (as `t`) whose `id` is the
/// walked id.
#[derive(Clone, Copy, Debug)]
pub struct Shown<'a> {
    /// The table the page's rows come from.
    pub table: &'static str,
    /// The columns read of them (`t.*` and any computed ones).
    pub columns: &'a str,
}

/// [`segment_sql`] walking other key and id columns of `table` (a follow edge's copy of the
/// listed developer's creation date, and its id) and showing the rows of another (the
/// developers they list).
#[allow(clippy::too_many_arguments)]
pub fn segment_sql_on(
    shown: Shown<'_>,
    table: &'static str,
    scope: Scope,
    query: &ListQuery,
    walked: Walked,
    segment: &Segment,
    limit: u64,
    offset: u64,
) -> Sql {
    let Walked { key, id: id_column } = walked;
    // A float's position is its exact text (see `Kind::Float`).
    let as_text = if query.ordering.field.kind == Kind::Float {
        "::text"
    } else {
        ""
    };
    let prefix = format!(
        "SELECT {}, to_jsonb(page.walked_key{as_text}) AS cursor_key, \
         to_jsonb(page.walked_id) AS cursor_id FROM (",
        shown.columns
    );
    let select = format!("t.{key} AS walked_key, t.{id_column} AS walked_id");
    let (mut sql, mut bound) = filtered_within(&prefix, &select, table, scope, query);
    let (direction, beyond) = if segment.descending {
        ("DESC", "<")
    } else {
        ("ASC", ">")
    };
    let null = if segment.nulls {
        "IS NULL"
    } else {
        "IS NOT NULL"
    };
    sql = sql.sql(format!(" AND t.{key} {null}"));
    if let Some(after) = &segment.after {
        let id = row_id(&after.id);
        let value = key_value(query.ordering.field.kind, &after.key);
        match value.filter(|_| !segment.nulls) {
            Some(value) => {
                sql = bind_value(
                    sql.sql(format!(
                        " AND (t.{key}, t.{id_column}) {beyond} (${}, ",
                        bound + 1
                    )),
                    &value,
                );
                bound += 1;
                sql = bind_id(sql.sql(format!("${})", bound + 1)), id);
            }
            None => {
                sql = bind_id(
                    sql.sql(format!(" AND t.{id_column} {beyond} ${}", bound + 1)),
                    id,
                );
            }
        }
        bound += 1;
    }
    sql.sql(format!(
        " ORDER BY t.{key} {direction}, t.{id_column} {direction} LIMIT ${} OFFSET ${}) page \
         JOIN {} t ON t.id = page.walked_id \
         ORDER BY page.walked_key {direction}, page.walked_id {direction}",
        bound + 1,
        bound + 2,
        shown.table,
    ))
    .bind::<BigInt, _>(i64::try_from(limit).unwrap_or(i64::MAX))
    .bind::<BigInt, _>(i64::try_from(offset).unwrap_or(i64::MAX))
}

/// One page of a list by relevance (a search without an ordering): the matches whose
/// `exact` column equals the whole search (case-insensitively) first, then by `ts_rank`
/// descending, then by `exact` and `id`: a total order, so numbered pages neither repeat
/// nor skip a row.
///
/// Ranking reads every match it orders, so it orders at most `candidates.limit` of them
/// (the first the scan meets, in the [`SEARCH_SAMPLE`] when `candidates.sampled`) and every
/// exact match: a search matching more than that lists no further by relevance (its count
/// still says how many match; an `ordering` walks them all). The candidates are ranked from
/// the index scan's own rows (id, score, tie-breaker), and only the page's rows are read
/// whole. Each row also carries `ranked_candidates`, how many candidates there were: below
/// the limit of an unsampled page, every match was one, and that is the list's exact count.
pub fn ranked_sql(
    table: &'static str,
    columns: &str,
    scope: Scope,
    query: &ListQuery,
    candidates: Candidates,
    (limit, offset): (u64, u64),
) -> Option<Sql> {
    let (search, field) = query.search()?;
    let Kind::Search { exact, .. } = field.kind else {
        return None;
    };
    let vector = field.name;
    let ranked = |exact_match: bool| {
        format!(
            "SELECT t.id AS ranked_id, t.{exact} AS ranked_name, {exact_match} AS ranked_exact, \
             ts_rank(t.{vector}, gitomatic_search_query($1)) AS ranked_score \
             FROM {table} t WHERE true"
        )
    };
    // The search text is bound once, as `$1`, and the conditions number from `$2`. The
    // two parts are disjoint (no duplicate to remove): the capped matches that are not
    // exact, and the exact ones.
    let sql = diesel::sql_query(format!(
        "SELECT {columns}, page.ranked_candidates FROM (SELECT *, \
         count(*) OVER () AS ranked_candidates FROM (({}",
        ranked(false)
    ))
    .into_boxed::<Pg>()
    .bind::<Text, _>(search.to_owned());
    let (sql, bound) = conditions(sql, 1, scope, query);
    let sample = if candidates.sampled {
        format!(" AND {SEARCH_SAMPLE}")
    } else {
        String::new()
    };
    let sql = sql
        .sql(format!(
            "{sample} AND lower(t.{exact}) <> lower($1) LIMIT ${}) UNION ALL ({}",
            bound + 1,
            ranked(true)
        ))
        .bind::<BigInt, _>(candidates.limit);
    let (sql, bound) = conditions(sql, bound + 1, scope, query);
    let order = "ranked_exact DESC, ranked_score DESC, ranked_name, ranked_id";
    Some(
        sql.sql(format!(
            " AND lower(t.{exact}) = lower($1))) candidates ORDER BY {order} \
             LIMIT ${} OFFSET ${}) page JOIN {table} t ON t.id = page.ranked_id \
             ORDER BY page.{}",
            bound + 1,
            bound + 2,
            order.replace(", ", ", page."),
        ))
        .bind::<BigInt, _>(i64::try_from(limit).unwrap_or(i64::MAX))
        .bind::<BigInt, _>(i64::try_from(offset).unwrap_or(i64::MAX)),
    )
}

/// A row id from a position: a UUID or an integer.
#[derive(Clone, Copy, Debug, PartialEq)]
enum RowId {
    Uuid(uuid::Uuid),
    Integer(i64),
}

fn row_id(id: &Json) -> Option<RowId> {
    match id {
        Json::String(text) => uuid::Uuid::parse_str(text).ok().map(RowId::Uuid),
        Json::Number(number) => number.as_i64().map(RowId::Integer),
        _ => None,
    }
}

fn bind_id(sql: Sql, id: Option<RowId>) -> Sql {
    match id {
        Some(RowId::Uuid(id)) => sql.bind::<diesel::sql_types::Uuid, _>(id),
        Some(RowId::Integer(id)) => sql.bind::<BigInt, _>(id),
        // Checked when the cursor was read; a position without an id matches nothing.
        None => sql.bind::<diesel::sql_types::Nullable<BigInt>, _>(None::<i64>),
    }
}

/// A position's key as a value of the field's kind (`to_jsonb` gives timestamps as
/// RFC 3339 text, integers as numbers).
fn key_value(kind: Kind, key: &Json) -> Option<Value> {
    match (kind, key) {
        (Kind::Text | Kind::Choice(_), Json::String(text)) => Some(Value::Text(text.clone())),
        (Kind::Integer, Json::Number(number)) => number.as_i64().map(Value::Integer),
        (Kind::Timestamp, Json::String(text)) => DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|time| Value::Timestamp(time.with_timezone(&Utc))),
        (Kind::Boolean, Json::Bool(flag)) => Some(Value::Boolean(*flag)),
        (Kind::Float, Json::String(text)) => text
            .parse::<f64>()
            .ok()
            .filter(|value| value.is_finite())
            .map(Value::Float),
        _ => None,
    }
}

fn bind_value(sql: Sql, value: &Value) -> Sql {
    match value {
        Value::Text(text) => sql.bind::<Text, _>(text.clone()),
        Value::Integer(i) => sql.bind::<BigInt, _>(*i),
        Value::Timestamp(t) => sql.bind::<Timestamptz, _>(*t),
        Value::Boolean(b) => sql.bind::<Bool, _>(*b),
        Value::Float(f) => sql.bind::<Double, _>(*f),
    }
}

/// The number of rows in one segment (without its position): what an offset page that
/// lies past every row with a key skips before the rows without one.
pub fn segment_count_sql(
    table: &'static str,
    scope: Scope,
    query: &ListQuery,
    segment: &Segment,
) -> Sql {
    let (sql, _) = filtered("count(*) AS total_count", table, scope, query);
    let null = if segment.nulls {
        "IS NULL"
    } else {
        "IS NOT NULL"
    };
    sql.sql(format!(" AND t.{} {null}", query.ordering.field.name))
}

/// The size of the filtered list, counting at most `cap + 1` rows:
/// `SELECT count(*) AS total_count FROM (SELECT 1 ... LIMIT cap + 1) capped`.
pub fn capped_count_sql(table: &'static str, scope: Scope, query: &ListQuery, cap: i64) -> Sql {
    let (sql, bound) = filtered_within(
        "SELECT count(*) AS total_count FROM (",
        "1",
        table,
        scope,
        query,
    );
    sql.sql(format!(" LIMIT ${}) capped", bound + 1))
        .bind::<BigInt, _>(cap.saturating_add(1))
}

/// The planner's estimate of the filtered list's size: `EXPLAIN (FORMAT JSON) SELECT 1 ...`.
pub fn estimate_sql(table: &'static str, scope: Scope, query: &ListQuery) -> Sql {
    filtered_within("EXPLAIN (FORMAT JSON) ", "1", table, scope, query).0
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &[Field] = &[
        Field::new("login", Kind::Text),
        Field::new("followers_count", Kind::Integer),
        Field::new("created_at", Kind::Timestamp),
        Field::new("fork", Kind::Boolean),
        Field::new("status", Kind::Choice(&["queued", "failed"])),
        Field::new("labels", Kind::TextArray),
    ];

    #[test]
    fn lookups_parse_by_kind() {
        assert!(Filter::parse(FIELDS, "login", "octocat").is_ok());
        assert!(Filter::parse(FIELDS, "login__contains", "oct").is_ok());
        assert!(Filter::parse(FIELDS, "followers_count__gte", "10").is_ok());
        assert!(Filter::parse(FIELDS, "created_at__lte", "2020-01-01").is_ok());
        assert!(Filter::parse(FIELDS, "created_at__gte", "2020-01-01T10:00:00Z").is_ok());
        assert!(Filter::parse(FIELDS, "fork", "true").is_ok());
        assert!(Filter::parse(FIELDS, "login__isnull", "false").is_ok());
    }

    #[test]
    fn errors_name_the_parameter() {
        let unknown = Filter::parse(FIELDS, "password", "x").expect_err("unknown");
        assert!(unknown.contains("password"), "{unknown}");
        let lookup = Filter::parse(FIELDS, "login__lte", "x").expect_err("no lte on text");
        assert!(lookup.contains("login__lte"), "{lookup}");
        let value =
            Filter::parse(FIELDS, "followers_count__gte", "many").expect_err("not a number");
        assert!(value.contains("followers_count__gte"), "{value}");
        let date = Filter::parse(FIELDS, "created_at", "yesterday").expect_err("not a date");
        assert!(date.contains("created_at"), "{date}");
        assert!(
            Ordering::parse(FIELDS, "-nothing")
                .expect_err("unknown")
                .contains("-nothing")
        );
    }

    #[test]
    fn a_choice_accepts_its_values_only_and_names_them() {
        assert!(Filter::parse(FIELDS, "status", "queued").is_ok());
        assert!(Filter::parse(FIELDS, "status__isnull", "false").is_ok());
        let error = Filter::parse(FIELDS, "status", "bogus").expect_err("not a status");
        assert!(
            error.contains("status") && error.contains("queued, failed") && error.contains("bogus"),
            "{error}"
        );
        // Exact values only: no case folding, no lookups of text.
        assert!(Filter::parse(FIELDS, "status", "Queued").is_err());
        assert!(Filter::parse(FIELDS, "status__contains", "que").is_err());
    }

    #[test]
    fn an_empty_value_is_no_filter_but_the_name_must_be_known() {
        for (key, raw) in [
            ("login", ""),
            ("followers_count__gte", ""),
            ("created_at__lte", "  "),
            ("status", ""),
            ("labels__contains", ""),
            ("fork__isnull", ""),
        ] {
            assert!(
                Filter::parse_unless_empty(FIELDS, key, raw)
                    .expect("a known name")
                    .is_none(),
                "{key}={raw:?}"
            );
        }
        for key in ["bogus", "login__lte", "labels"] {
            let error = Filter::parse_unless_empty(FIELDS, key, "").expect_err("unknown");
            assert!(error.contains(key), "{error}");
        }
        assert!(
            Filter::parse_unless_empty(FIELDS, "login", "amy")
                .expect("a filter")
                .is_some()
        );
        assert!(Filter::parse_unless_empty(FIELDS, "followers_count", "x").is_err());
    }

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(like_escape("100%_a\\"), "100\\%\\_a\\\\");
    }

    #[test]
    fn a_text_array_takes_contains_only_and_is_not_orderable() {
        assert!(Filter::parse(FIELDS, "labels__contains", "bug").is_ok());
        for key in ["labels", "labels__isnull", "labels__lte", "labels__gte"] {
            let error = Filter::parse(FIELDS, key, "bug").expect_err("only __contains");
            assert!(
                error.contains(key) && error.contains("labels__contains"),
                "{error}"
            );
        }
        let error = Ordering::parse(FIELDS, "labels").expect_err("not orderable");
        assert!(
            error.contains("labels") && !error.contains("labels,"),
            "{error}"
        );
        assert!(Ordering::parse(FIELDS, "-login").is_ok());
    }

    #[test]
    fn an_include_switch_hides_what_its_column_marks_unless_true() {
        const SWITCHED: &[Field] = &[
            Field::new("number", Kind::Integer),
            Field::new("include_deleted", Kind::Include("deleted_at")),
        ];
        let text = |filters: Vec<Filter>| {
            let query = ListQuery {
                filters,
                ordering: Ordering::parse(SWITCHED, "number").expect("an ordering"),
                page: 1,
                page_size: 10,
                cursor: None,
                ranked: false,
            };
            sql_text(&capped_count_sql("issues", Scope::All, &query, 100))
        };
        // Not named: counts as false.
        let defaults = Filter::defaults(SWITCHED, &[]);
        let hidden = text(defaults);
        assert!(hidden.contains("AND t.deleted_at IS NULL"), "{hidden}");
        assert!(!hidden.contains("include_deleted"), "{hidden}");
        let no = Filter::parse(SWITCHED, "include_deleted", "false").expect("a switch");
        assert!(text(vec![no]).contains("AND t.deleted_at IS NULL"));
        let yes = Filter::parse(SWITCHED, "include_deleted", "true").expect("a switch");
        assert!(Filter::defaults(SWITCHED, std::slice::from_ref(&yes)).is_empty());
        let shown = text(vec![yes]);
        assert!(!shown.contains("deleted_at"), "{shown}");
        // Malformed values and lookups name the parameter; it orders nothing.
        let error = Filter::parse(SWITCHED, "include_deleted", "maybe").expect_err("not a bool");
        assert!(
            error.contains("include_deleted") && error.contains("true or false"),
            "{error}"
        );
        let error = Filter::parse(SWITCHED, "include_deleted__isnull", "true").expect_err("exact");
        assert!(error.contains("include_deleted__isnull"), "{error}");
        assert!(Ordering::parse(SWITCHED, "include_deleted").is_err());
        // Lists without a switch apply nothing by default.
        assert!(Filter::defaults(FIELDS, &[]).is_empty());
    }

    /// The SQL text of a query (its binds are not shown).
    fn sql_text(sql: &Sql) -> String {
        diesel::debug_query::<Pg, _>(sql).to_string()
    }

    #[test]
    fn a_text_array_filter_is_array_membership_with_a_bound_value() {
        let query = ListQuery {
            filters: vec![
                Filter::parse(FIELDS, "labels__contains", "good first issue").expect("a filter"),
            ],
            ordering: Ordering::parse(FIELDS, "login").expect("an ordering"),
            page: 1,
            page_size: 10,
            cursor: None,
            ranked: false,
        };
        let text = sql_text(&capped_count_sql("issues", Scope::All, &query, 100));
        assert!(text.contains("t.labels @> ARRAY[$1]::text[]"), "{text}");
        assert!(!text.contains("ILIKE"), "{text}");
    }

    #[test]
    fn scopes_come_first_and_number_their_placeholders() {
        let query = ListQuery {
            filters: vec![Filter::parse(FIELDS, "login", "amy").expect("a filter")],
            ordering: Ordering::parse(FIELDS, "login").expect("an ordering"),
            page: 1,
            page_size: 10,
            cursor: None,
            ranked: false,
        };
        let fixed = sql_text(&capped_count_sql(
            "issues",
            Scope::Where("NOT t.is_pull_request"),
            &query,
            100,
        ));
        assert!(
            fixed.contains("AND (NOT t.is_pull_request) AND t.login = $1"),
            "{fixed}"
        );
        let after = Segment {
            nulls: false,
            descending: true,
            after: Some(Position {
                key: Json::String("amy".into()),
                id: Json::String(uuid::Uuid::nil().to_string()),
            }),
        };
        let bound = sql_text(&segment_sql(
            "issues",
            "t.*",
            Scope::Of("t.repository_id = $1", uuid::Uuid::nil()),
            &query,
            &after,
            11,
            0,
        ));
        assert!(
            bound.contains(
                "AND (t.repository_id = $1) AND t.login = $2 AND t.login IS NOT NULL \
                 AND (t.login, t.id) < ($3, $4) ORDER BY t.login DESC, t.id DESC LIMIT $5 OFFSET $6"
            ),
            "{bound}"
        );
        let all = sql_text(&capped_count_sql("issues", Scope::All, &query, 100));
        assert!(
            all.contains(
                "FROM (SELECT 1 FROM issues t WHERE true AND t.login = $1 LIMIT $2) capped"
            ),
            "{all}"
        );
        let estimate = sql_text(&estimate_sql("issues", Scope::All, &query));
        assert!(
            estimate.starts_with("EXPLAIN (FORMAT JSON) SELECT 1 FROM issues t"),
            "{estimate}"
        );
    }

    fn at(key: Json) -> Position {
        Position {
            key,
            id: Json::from(7),
        }
    }

    fn segment(nulls: bool, descending: bool, after: Option<Position>) -> Segment {
        Segment {
            nulls,
            descending,
            after,
        }
    }

    #[test]
    fn rows_without_a_key_come_last_either_way_and_each_part_is_one_index_range() {
        let up = Ordering::parse(FIELDS, "login").expect("ordering");
        let down = Ordering::parse(FIELDS, "-login").expect("ordering");
        assert_eq!(
            down.segments(None, false),
            [segment(false, true, None), segment(true, true, None)]
        );
        assert_eq!(
            up.segments(None, false),
            [segment(false, false, None), segment(true, false, None)]
        );
        // After a row with a key: the rest of the keyed rows, then every row without one.
        let keyed = at(Json::String("amy".into()));
        assert_eq!(
            down.segments(Some(&keyed), false),
            [
                segment(false, true, Some(keyed.clone())),
                segment(true, true, None)
            ]
        );
        // After a row without a key: only later rows without one.
        let unkeyed = at(Json::Null);
        assert_eq!(
            down.segments(Some(&unkeyed), false),
            [segment(true, true, Some(unkeyed.clone()))]
        );
        // Back from a keyed row: the keyed rows before it, walked the other way.
        assert_eq!(
            down.segments(Some(&keyed), true),
            [segment(false, false, Some(keyed))]
        );
        // Back from a row without a key: those before it, then every keyed row.
        assert_eq!(
            up.segments(Some(&unkeyed), true),
            [
                segment(true, true, Some(unkeyed)),
                segment(false, true, None)
            ]
        );
    }

    #[test]
    fn a_search_is_a_condition_on_the_vector_and_ranks_a_capped_set() {
        const SEARCHED: &[Field] = &[
            Field::new("login", Kind::Text),
            Field::new(
                "search",
                Kind::Search {
                    over: "login",
                    exact: "login",
                },
            ),
        ];
        // No word, no filter; not orderable; exact only.
        for raw in ["", "  ", "--", " / . "] {
            assert!(
                Filter::parse_unless_empty(SEARCHED, "search", raw)
                    .expect("known")
                    .is_none(),
                "{raw:?}"
            );
        }
        assert!(Ordering::parse(SEARCHED, "search").is_err());
        assert!(Filter::parse(SEARCHED, "search__contains", "x").is_err());
        let search = Filter::parse(SEARCHED, "search", "Ada-0024").expect("a search");
        let query = ListQuery {
            filters: vec![
                search,
                Filter::parse(SEARCHED, "login__contains", "a").expect("a filter"),
            ],
            ordering: Ordering::parse(SEARCHED, "login").expect("an ordering"),
            page: 2,
            page_size: 10,
            cursor: None,
            ranked: true,
        };
        assert_eq!(query.search().map(|(text, _)| text), Some("Ada-0024"));
        let count = sql_text(&capped_count_sql("developers", Scope::All, &query, 100));
        assert!(
            count.contains(
                "AND (t.search @@ gitomatic_search_query($1) \
                 OR gitomatic_search_query($1) IS NULL) AND t.login ILIKE $2"
            ),
            "{count}"
        );
        let ranked = sql_text(
            &ranked_sql(
                "developers",
                "t.*",
                Scope::Of("t.id IN (SELECT 1 WHERE $1 IS NOT NULL)", uuid::Uuid::nil()),
                &query,
                Candidates {
                    limit: RANKED_MATCHES,
                    sampled: true,
                },
                (11, 10),
            )
            .expect("a search"),
        );
        for part in [
            "t.login AS ranked_name, false AS ranked_exact",
            "t.login AS ranked_name, true AS ranked_exact",
            "ts_rank(t.search, gitomatic_search_query($1)) AS ranked_score",
            "AND (t.id IN (SELECT 1 WHERE $2 IS NOT NULL)) AND (t.search @@ gitomatic_search_query($3)",
            "AND t.login ILIKE $4 AND (uuid_hash(t.id) & 7) = 0 AND lower(t.login) <> lower($1) \
             LIMIT $5) UNION ALL (",
            "AND (t.id IN (SELECT 1 WHERE $6 IS NOT NULL)) AND (t.search @@ gitomatic_search_query($7)",
            "AND t.login ILIKE $8 AND lower(t.login) = lower($1))) candidates \
             ORDER BY ranked_exact DESC, ranked_score DESC, ranked_name, ranked_id LIMIT $9 OFFSET $10",
            "ORDER BY page.ranked_exact DESC, page.ranked_score DESC, page.ranked_name, page.ranked_id",
        ] {
            assert!(ranked.contains(part), "{part} in {ranked}");
        }
        assert_eq!(
            ranked.matches(SEARCH_SAMPLE).count(),
            1,
            "the exact matches are never sampled: {ranked}"
        );
        let unsearched = ListQuery {
            filters: Vec::new(),
            ..query
        };
        assert!(unsearched.search().is_none());
    }

    #[test]
    fn a_position_must_be_a_value_of_the_ordering_field() {
        let by_count = Ordering::parse(FIELDS, "-followers_count").expect("ordering");
        assert!(by_count.check_position(&at(Json::from(12))).is_ok());
        assert!(by_count.check_position(&at(Json::Null)).is_ok());
        let error = by_count
            .check_position(&at(Json::String("12".into())))
            .expect_err("text for an integer");
        assert!(error.contains("followers_count"), "{error}");
        let by_time = Ordering::parse(FIELDS, "created_at").expect("ordering");
        assert!(
            by_time
                .check_position(&at(Json::String("2020-01-02T03:04:05.5+00:00".into())))
                .is_ok()
        );
        assert!(
            by_time
                .check_position(&at(Json::String("yesterday".into())))
                .is_err()
        );
        let no_id = Position {
            key: Json::Null,
            id: Json::Bool(true),
        };
        assert!(by_time.check_position(&no_id).is_err());
    }
}
