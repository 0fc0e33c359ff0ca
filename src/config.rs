//! Typed configuration read from the environment, validated in full at start-up.

use std::net::SocketAddr;

use secrecy::SecretString;
use url::Url;

/// Everything gitomatic reads from its environment, parsed and validated.
#[derive(Clone)]
pub struct Config {
    /// PostgreSQL connection URL (`DATABASE_URL`).
    pub database_url: String,
    /// RabbitMQ connection URL (`AMQP_URL`).
    pub amqp_url: String,
    /// Prefix of every exchange and queue name (`QUEUE_PREFIX`).
    pub queue_prefix: String,
    /// Address the web server listens on (`BIND`, or `0.0.0.0:$PORT`).
    pub bind: SocketAddr,
    /// Base of hyperlinks when behind a proxy (`PUBLIC_URL`); derived from the request when unset.
    pub public_url: Option<Url>,
    /// GitHub REST base URL (`GITHUB_API_URL`).
    pub github_api_url: Url,
    /// The token pool (`GITHUB_TOKENS`, plus `GITHUB_TOKEN`); anonymous when empty. Never printed.
    pub github_tokens: Vec<SecretString>,
    /// Requests of each REST quota window never spent, per identity (`GITHUB_QUOTA_RESERVE`).
    pub github_quota_reserve: u32,
    /// Points of each GraphQL quota window never spent, per identity (`GITHUB_GRAPHQL_RESERVE`).
    pub github_graphql_reserve: u32,
    /// Whether discovery batches never-synced developers into GraphQL queries
    /// (`GITHUB_GRAPHQL=auto|off`; `auto` needs a token: GitHub refuses anonymous GraphQL).
    pub github_graphql: bool,
    /// Developers per GraphQL batch query (`GITHUB_GRAPHQL_BATCH`).
    pub github_graphql_batch: u32,
    /// Most GitHub requests per second per identity (`GITHUB_MAX_RPS`).
    pub github_max_rps: u32,
    /// The schedules read, each with its cron expression (`None`: the schedule is `off`).
    crons: Vec<(Schedule, Option<String>)>,
    /// Developers picked per discovery run (`DISCOVERY_BATCH`).
    pub discovery_batch: u32,
    /// Days back `activity_reconcile` re-reads closed pull requests (`RECONCILE_DAYS`).
    pub reconcile_days: u32,
    /// Whether reads need an API token too (`API_READ_AUTH=required`).
    pub read_auth_required: bool,
    /// Jobs a worker runs at once (`WORKER_CONCURRENCY`).
    pub worker_concurrency: u16,
    /// Seconds without a heartbeat after which a running task counts as abandoned (`TASK_LEASE_SECS`).
    pub task_lease_secs: u32,
    /// First delay before retrying a task that met a GitHub outage, doubled per attempt (`TASK_RETRY_SECS`).
    pub task_retry_secs: u32,
    /// Milliseconds a web request's statement may run before PostgreSQL cancels it
    /// (`WEB_STATEMENT_TIMEOUT_MS`; 0: no limit).
    pub web_statement_timeout_ms: u32,
    /// The secret GitHub signs webhook deliveries with (`GITHUB_WEBHOOK_SECRET`); `None`
    /// (unset or empty) turns webhooks off. Never printed.
    pub github_webhook_secret: Option<SecretString>,
}

impl std::fmt::Debug for Config {
    // Hand-written so that no password or token ever reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_password(&self.database_url))
            .field("amqp_url", &redact_password(&self.amqp_url))
            .field("queue_prefix", &self.queue_prefix)
            .field("bind", &self.bind)
            .field(
                "public_url",
                &self
                    .public_url
                    .as_ref()
                    .map(|url| redact_password(url.as_str())),
            )
            .field(
                "github_api_url",
                &redact_password(self.github_api_url.as_str()),
            )
            .field(
                "github_tokens",
                &format!("<{} hidden>", self.github_tokens.len()),
            )
            .field("github_quota_reserve", &self.github_quota_reserve)
            .field("github_graphql_reserve", &self.github_graphql_reserve)
            .field("github_graphql", &self.github_graphql)
            .field("github_graphql_batch", &self.github_graphql_batch)
            .field("github_max_rps", &self.github_max_rps)
            .field(
                "crons",
                &self
                    .crons
                    .iter()
                    .map(|(schedule, cron)| (schedule.variable, cron))
                    .collect::<Vec<_>>(),
            )
            .field("discovery_batch", &self.discovery_batch)
            .field("reconcile_days", &self.reconcile_days)
            .field("read_auth_required", &self.read_auth_required)
            .field("worker_concurrency", &self.worker_concurrency)
            .field("task_lease_secs", &self.task_lease_secs)
            .field("task_retry_secs", &self.task_retry_secs)
            .field("web_statement_timeout_ms", &self.web_statement_timeout_ms)
            .field(
                "github_webhook_secret",
                &self.github_webhook_secret.as_ref().map(|_| "<hidden>"),
            )
            .finish()
    }
}

/// A malformed environment variable: which one, what it held (passwords masked) and what
/// was expected.
#[derive(Debug, thiserror::Error)]
#[error("invalid {variable}={value:?}: expected {expected}")]
pub struct ConfigError {
    /// Name of the offending variable.
    pub variable: &'static str,
    /// The value found, with any password replaced by `***` (a token is never shown).
    pub value: String,
    /// What a valid value looks like.
    pub expected: String,
}

impl Config {
    /// Reads and validates the process environment, with the cron variable of each
    /// schedule (the job registry's: `Registry::schedules`).
    pub fn from_env(schedules: &[Schedule]) -> Result<Self, ConfigError> {
        Self::from_lookup(schedules, |name| std::env::var(name).ok())
    }

    /// Reads and validates configuration from any variable lookup (the environment, or a
    /// test map), with the cron variable of each schedule.
    pub fn from_lookup(
        schedules: &[Schedule],
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let env = Env(&lookup);
        let github_tokens = env.github_tokens()?;
        let github_graphql = env.graphql_switch()? && !github_tokens.is_empty();
        Ok(Self {
            database_url: env.url(
                "DATABASE_URL",
                "postgres://postgres@127.0.0.1:5432/gitomatic",
                &["postgres", "postgresql"],
            )?,
            amqp_url: env.url(
                "AMQP_URL",
                "amqp://guest:guest@127.0.0.1:5672/%2f",
                &["amqp", "amqps"],
            )?,
            queue_prefix: env.queue_prefix()?,
            bind: env.bind()?,
            public_url: env.optional_http_url("PUBLIC_URL")?,
            github_api_url: env
                .optional_http_url("GITHUB_API_URL")?
                .unwrap_or_else(|| Url::parse("https://api.github.com").expect("valid default")),
            github_tokens,
            github_quota_reserve: env.number("GITHUB_QUOTA_RESERVE", 100, 0)?,
            github_graphql_reserve: env.number("GITHUB_GRAPHQL_RESERVE", 100, 0)?,
            github_graphql,
            github_graphql_batch: env
                // 29 developers ask 5 connections each: 145 requests, GitHub rounds to 1 point.
                .number("GITHUB_GRAPHQL_BATCH", 29, 1)
                .and_then(|n| at_most("GITHUB_GRAPHQL_BATCH", n, 100))?,
            github_max_rps: env.number("GITHUB_MAX_RPS", 10, 1)?,
            crons: env.crons(schedules)?,
            discovery_batch: env.number("DISCOVERY_BATCH", 5, 1)?,
            reconcile_days: env.number("RECONCILE_DAYS", 365, 1)?,
            read_auth_required: env.read_auth()?,
            worker_concurrency: u16::try_from(env.number("WORKER_CONCURRENCY", 4, 1)?.min(256))
                .unwrap_or(256),
            task_lease_secs: env.number("TASK_LEASE_SECS", 60, 4)?,
            task_retry_secs: env.number("TASK_RETRY_SECS", 60, 1)?,
            web_statement_timeout_ms: env.number("WEB_STATEMENT_TIMEOUT_MS", 5000, 0)?,
            github_webhook_secret: env.get("GITHUB_WEBHOOK_SECRET").map(SecretString::from),
        })
    }

    /// The web role's statement timeout, `None` when off.
    pub fn web_statement_timeout(&self) -> Option<std::time::Duration> {
        (self.web_statement_timeout_ms > 0)
            .then(|| std::time::Duration::from_millis(u64::from(self.web_statement_timeout_ms)))
    }
}

impl Config {
    /// The cron expression of the schedule set by `variable`; `None` when it is `off` or
    /// is not a schedule this configuration read.
    pub fn cron(&self, variable: &str) -> Option<&str> {
        self.crons
            .iter()
            .find(|(schedule, _)| schedule.variable == variable)
            .and_then(|(_, cron)| cron.as_deref())
    }

    /// Every schedule read, with its cron expression (`None`: `off`), in the order given.
    pub fn crons(&self) -> impl Iterator<Item = (&Schedule, Option<&str>)> {
        self.crons
            .iter()
            .map(|(schedule, cron)| (schedule, cron.as_deref()))
    }
}

/// A cron entry of the scheduler, declared by the job kind it enqueues
/// (`BackgroundJob::SCHEDULE`): the variable that sets it (6 fields, seconds first, or
/// `off`), its default, and what it schedules (`--help`). Kinds that declare the same
/// schedule share one entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Schedule {
    /// The environment variable, e.g. `DISCOVERY_CRON`.
    pub variable: &'static str,
    /// The cron expression when the variable is unset.
    pub default: &'static str,
    /// What a tick enqueues, in a few words.
    pub description: &'static str,
}

/// Checks a cron expression with the parser that will run it (tokio-cron-scheduler's):
/// six fields, seconds first.
pub fn validate_cron(expression: &str) -> Result<(), String> {
    let fields = expression.split_whitespace().count();
    if fields != 6 {
        return Err(format!("found {fields} fields"));
    }
    tokio_cron_scheduler::Job::new(expression, |_, _| {})
        .map(|_| ())
        .map_err(|_| "a field is out of range or malformed".to_owned())
}

/// Variable lookup with one parser per kind of value.
struct Env<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    /// The variable's value; an empty value counts as unset.
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|value| !value.trim().is_empty())
    }

    fn url(
        &self,
        name: &'static str,
        default: &str,
        schemes: &[&str],
    ) -> Result<String, ConfigError> {
        let Some(value) = self.get(name) else {
            return Ok(default.to_owned());
        };
        let expected = || format!("a {}:// URL", schemes.join(":// or "));
        match Url::parse(&value) {
            Ok(url) if schemes.contains(&url.scheme()) && url.has_host() => Ok(value),
            _ => Err(invalid(name, &value, expected())),
        }
    }

    fn optional_http_url(&self, name: &'static str) -> Result<Option<Url>, ConfigError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        match Url::parse(&value) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => Ok(Some(url)),
            _ => Err(invalid(
                name,
                &value,
                "an absolute http:// or https:// URL".into(),
            )),
        }
    }

    fn queue_prefix(&self) -> Result<String, ConfigError> {
        let Some(value) = self.get("QUEUE_PREFIX") else {
            return Ok("gitomatic".into());
        };
        let valid = value.len() <= 100
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
        if valid {
            Ok(value)
        } else {
            Err(invalid(
                "QUEUE_PREFIX",
                &value,
                "1-100 characters of A-Z a-z 0-9 - _ . :".into(),
            ))
        }
    }

    fn bind(&self) -> Result<SocketAddr, ConfigError> {
        if let Some(value) = self.get("BIND") {
            return value.parse().map_err(|_| {
                invalid(
                    "BIND",
                    &value,
                    "a socket address such as 127.0.0.1:8000".into(),
                )
            });
        }
        if let Some(value) = self.get("PORT") {
            let port: u16 = value
                .parse()
                .map_err(|_| invalid("PORT", &value, "a TCP port number (0-65535)".into()))?;
            return Ok(SocketAddr::from(([0, 0, 0, 0], port)));
        }
        Ok(SocketAddr::from(([127, 0, 0, 1], 8000)))
    }

    /// `GITHUB_TOKENS` (comma-separated) and `GITHUB_TOKEN`, duplicates counted once.
    fn github_tokens(&self) -> Result<Vec<SecretString>, ConfigError> {
        let mut tokens: Vec<String> = Vec::new();
        if let Some(list) = self.get("GITHUB_TOKENS") {
            for (index, token) in list.split(',').map(str::trim).enumerate() {
                check_token("GITHUB_TOKENS", token, Some(index + 1))?;
                if !tokens.iter().any(|known| known == token) {
                    tokens.push(token.to_owned());
                }
            }
        }
        if let Some(token) = self.get("GITHUB_TOKEN") {
            check_token("GITHUB_TOKEN", &token, None)?;
            if !tokens.contains(&token) {
                tokens.push(token);
            }
        }
        Ok(tokens.into_iter().map(SecretString::from).collect())
    }

    fn graphql_switch(&self) -> Result<bool, ConfigError> {
        match self.get("GITHUB_GRAPHQL").as_deref().map(str::trim) {
            None | Some("auto") => Ok(true),
            Some("off") => Ok(false),
            Some(other) => Err(invalid(
                "GITHUB_GRAPHQL",
                other,
                "`auto` (GraphQL batches when a token is set) or `off` (REST only)".into(),
            )),
        }
    }

    fn number(&self, name: &'static str, default: u32, min: u32) -> Result<u32, ConfigError> {
        let Some(value) = self.get(name) else {
            return Ok(default);
        };
        match value.trim().parse::<u32>() {
            Ok(n) if n >= min => Ok(n),
            _ => Err(invalid(
                name,
                &value,
                format!("a whole number of at least {min}"),
            )),
        }
    }

    /// Each schedule's expression, in the order given; a variable given twice is read once.
    fn crons(
        &self,
        schedules: &[Schedule],
    ) -> Result<Vec<(Schedule, Option<String>)>, ConfigError> {
        let mut crons: Vec<(Schedule, Option<String>)> = Vec::new();
        for schedule in schedules {
            if crons
                .iter()
                .all(|(read, _)| read.variable != schedule.variable)
            {
                crons.push((*schedule, self.cron(schedule)?));
            }
        }
        Ok(crons)
    }

    fn cron(&self, schedule: &Schedule) -> Result<Option<String>, ConfigError> {
        let name = schedule.variable;
        let value = self
            .get(name)
            .unwrap_or_else(|| schedule.default.to_owned());
        if value.trim().eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        validate_cron(&value).map_err(|reason| {
            invalid(
                name,
                &value,
                format!(
                    "`off` or a 6-field cron expression with seconds, e.g. `0 0 * * * *` ({reason})"
                ),
            )
        })?;
        Ok(Some(value.trim().to_owned()))
    }

    fn read_auth(&self) -> Result<bool, ConfigError> {
        match self.get("API_READ_AUTH").as_deref() {
            None | Some("public") => Ok(false),
            Some("required") => Ok(true),
            Some(other) => Err(invalid(
                "API_READ_AUTH",
                other,
                "`required` or `public`".into(),
            )),
        }
    }
}

/// A connection URL with its password replaced by `***`, parsable or not.
///
/// An unparsable value is masked from the first `:` after the scheme's `//` to the last
/// `@`: that may hide more than the password, never less.
pub fn redact_password(value: &str) -> String {
    if let Ok(mut url) = Url::parse(value) {
        if url.password().is_some() && url.set_password(Some("***")).is_ok() {
            return url.to_string();
        }
        if url.password().is_none() && !url.cannot_be_a_base() {
            return value.to_owned();
        }
    }
    let start = value.find("//").map_or(0, |i| i + 2);
    let Some(at) = value.rfind('@').filter(|at| *at >= start) else {
        return value.to_owned();
    };
    let Some(colon) = value[start..at].find(':').map(|i| start + i) else {
        return value.to_owned();
    };
    format!("{}***{}", &value[..=colon], &value[at..])
}

/// Checks one token of `variable` (the `position`-th of a list); the token is never echoed.
fn check_token(
    variable: &'static str,
    token: &str,
    position: Option<usize>,
) -> Result<(), ConfigError> {
    let valid =
        !token.is_empty() && token.len() <= 255 && token.chars().all(|c| c.is_ascii_graphic());
    if valid {
        return Ok(());
    }
    let which = position.map_or_else(String::new, |n| format!("token {n}: "));
    // Never echo a token, even a malformed one.
    Err(invalid(
        variable,
        "<hidden>",
        format!(
            "{which}a GitHub token of printable ASCII without spaces (tokens separated by commas, none empty)"
        ),
    ))
}

fn at_most(variable: &'static str, n: u32, max: u32) -> Result<u32, ConfigError> {
    if n <= max {
        Ok(n)
    } else {
        Err(invalid(
            variable,
            &n.to_string(),
            format!("a whole number from 1 to {max}"),
        ))
    }
}

/// The error for a malformed variable; whatever it held is shown with any URL password
/// replaced by `***` (any variable may hold a URL with credentials).
fn invalid(variable: &'static str, value: &str, expected: String) -> ConfigError {
    ConfigError {
        variable,
        value: redact_password(value),
        expected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    /// Schedules as job kinds declare them; the first is declared by two kinds.
    /// (The builtin kinds' schedules are tested with the registry.)
    const SCHEDULES: &[Schedule] = &[
        Schedule {
            variable: "FIRST_CRON",
            default: "0 0 * * * *",
            description: "first things",
        },
        Schedule {
            variable: "SECOND_CRON",
            default: "0 */10 * * * *",
            description: "second things",
        },
        Schedule {
            variable: "FIRST_CRON",
            default: "0 0 * * * *",
            description: "first things",
        },
    ];

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(SCHEDULES, |name| map.get(name).cloned())
    }

    #[test]
    fn defaults_match_the_spec() {
        let config = config(&[]).expect("defaults are valid");
        assert_eq!(
            config.database_url,
            "postgres://postgres@127.0.0.1:5432/gitomatic"
        );
        assert_eq!(config.amqp_url, "amqp://guest:guest@127.0.0.1:5672/%2f");
        assert_eq!(config.queue_prefix, "gitomatic");
        assert_eq!(config.bind.to_string(), "127.0.0.1:8000");
        assert_eq!(config.github_api_url.as_str(), "https://api.github.com/");
        assert_eq!(config.github_quota_reserve, 100);
        assert_eq!(config.github_max_rps, 10);
        assert_eq!(config.cron("FIRST_CRON"), Some("0 0 * * * *"));
        assert_eq!(config.cron("SECOND_CRON"), Some("0 */10 * * * *"));
        let read: Vec<&str> = config.crons().map(|(s, _)| s.variable).collect();
        assert_eq!(
            read,
            ["FIRST_CRON", "SECOND_CRON"],
            "each variable read once"
        );
        assert_eq!(config.discovery_batch, 5);
        assert!(!config.read_auth_required);
        assert!(config.github_tokens.is_empty());
        assert_eq!(config.github_graphql_reserve, 100);
        assert!(!config.github_graphql, "GraphQL needs a token");
    }

    #[test]
    fn port_binds_all_interfaces_and_bind_wins() {
        assert_eq!(
            config(&[("PORT", "5000")]).expect("valid").bind.to_string(),
            "0.0.0.0:5000"
        );
        let both = config(&[("PORT", "5000"), ("BIND", "127.0.0.1:9")]).expect("valid");
        assert_eq!(both.bind.to_string(), "127.0.0.1:9");
    }

    #[test]
    fn each_malformed_variable_is_named() {
        for (name, value) in [
            ("BIND", "nonsense"),
            ("PORT", "70000"),
            ("GITHUB_QUOTA_RESERVE", "-3"),
            ("GITHUB_MAX_RPS", "0"),
            ("DISCOVERY_BATCH", "many"),
            ("FIRST_CRON", "0 * * * *"),
            ("SECOND_CRON", "0 0 99 * * *"),
            ("SECOND_CRON", "every ten minutes"),
            ("FIRST_CRON", "disabled"),
            ("DATABASE_URL", "mysql://x"),
            ("AMQP_URL", "http://x"),
            ("GITHUB_API_URL", "not a url"),
            ("PUBLIC_URL", "ftp://x"),
            ("QUEUE_PREFIX", "has space"),
            ("API_READ_AUTH", "sometimes"),
            ("WORKER_CONCURRENCY", "0"),
            ("TASK_LEASE_SECS", "1"),
            ("TASK_RETRY_SECS", "0"),
            ("GITHUB_GRAPHQL_RESERVE", "-1"),
            ("GITHUB_GRAPHQL", "sometimes"),
            ("GITHUB_GRAPHQL_BATCH", "101"),
            ("GITHUB_TOKENS", "a,,b"),
        ] {
            let error = config(&[(name, value)]).expect_err(name);
            assert_eq!(error.variable, name);
            assert!(error.to_string().contains(name), "{error}");
        }
    }

    #[test]
    fn each_schedule_can_be_off() {
        let second_off = config(&[("SECOND_CRON", "off")]).expect("valid");
        assert_eq!(second_off.cron("SECOND_CRON"), None);
        assert_eq!(second_off.cron("FIRST_CRON"), Some("0 0 * * * *"));
        let first_off = config(&[("FIRST_CRON", " OFF ")]).expect("valid");
        assert_eq!(first_off.cron("FIRST_CRON"), None);
        assert_eq!(first_off.cron("SECOND_CRON"), Some("0 */10 * * * *"));
    }

    #[test]
    fn a_five_field_expression_is_refused_saying_so() {
        let error = config(&[("FIRST_CRON", "0 * * * *")]).expect_err("5 fields");
        assert_eq!(
            error.to_string(),
            "invalid FIRST_CRON=\"0 * * * *\": expected `off` or a 6-field cron expression \
             with seconds, e.g. `0 0 * * * *` (found 5 fields)"
        );
    }

    #[test]
    fn six_fields_with_seconds_are_required() {
        assert!(validate_cron("0 0 * * * *").is_ok());
        assert!(validate_cron("*/5 * * * * *").is_ok());
        assert_eq!(validate_cron("0 * * * *"), Err("found 5 fields".into()));
        assert!(validate_cron("0 0 99 * * *").is_err());
    }

    #[test]
    fn a_malformed_token_is_never_echoed() {
        let error = config(&[("GITHUB_TOKEN", "ghp_secret with space")]).expect_err("invalid");
        assert!(!error.to_string().contains("ghp_secret"), "{error}");
    }

    #[test]
    fn the_token_pool_reads_both_variables_once_each() {
        let pool = config(&[
            ("GITHUB_TOKENS", "ghp_one, ghp_two,ghp_one"),
            ("GITHUB_TOKEN", "ghp_two"),
        ])
        .expect("valid");
        let tokens: Vec<&str> = pool
            .github_tokens
            .iter()
            .map(|t| t.expose_secret())
            .collect();
        assert_eq!(tokens, ["ghp_one", "ghp_two"]);
        assert!(pool.github_graphql, "GraphQL is on with a token");
        let single = config(&[("GITHUB_TOKEN", "ghp_one")]).expect("valid");
        assert_eq!(single.github_tokens.len(), 1);
        let off = config(&[("GITHUB_TOKEN", "ghp_one"), ("GITHUB_GRAPHQL", "off")]).expect("valid");
        assert!(!off.github_graphql);
        let error = config(&[("GITHUB_TOKENS", "ghp_secret1,ghp secret2")]).expect_err("invalid");
        assert_eq!(error.variable, "GITHUB_TOKENS");
        assert!(error.to_string().contains("token 2"), "{error}");
        assert!(!error.to_string().contains("secret"), "{error}");
    }

    #[test]
    fn debug_output_hides_the_token() {
        let config = config(&[("GITHUB_TOKEN", "ghp_secret")]).expect("valid");
        assert!(!format!("{config:?}").contains("ghp_secret"));
    }

    #[test]
    fn the_webhook_secret_is_off_when_unset_or_empty_and_never_printed() {
        assert!(config(&[]).expect("valid").github_webhook_secret.is_none());
        let empty = config(&[("GITHUB_WEBHOOK_SECRET", "")]).expect("valid");
        assert!(empty.github_webhook_secret.is_none());
        let set = config(&[("GITHUB_WEBHOOK_SECRET", "hook-secret-1")]).expect("valid");
        assert_eq!(
            set.github_webhook_secret
                .as_ref()
                .map(|s| s.expose_secret()),
            Some("hook-secret-1")
        );
        let debug = format!("{set:?}");
        assert!(!debug.contains("hook-secret-1"), "{debug}");
        assert!(
            debug.contains("github_webhook_secret: Some(\"<hidden>\")"),
            "{debug}"
        );
    }

    #[test]
    fn a_malformed_url_is_echoed_with_its_password_masked() {
        for (name, value, shown) in [
            // Parsable, but the wrong scheme.
            (
                "DATABASE_URL",
                "mysql://u:hunter2@h/db",
                "mysql://u:***@h/db",
            ),
            (
                "AMQP_URL",
                "http://guest:hunter2@h:5672/",
                "http://guest:***@h:5672/",
            ),
            // Unparsable: no host, a bad port, a password with an `@` in it.
            (
                "DATABASE_URL",
                "postgres://u:hunter2@/x",
                "postgres://u:***@/x",
            ),
            (
                "AMQP_URL",
                "amqp://u:hunter2@h:port/%2f",
                "amqp://u:***@h:port/%2f",
            ),
            (
                "DATABASE_URL",
                "postgres://u:hun@ter2@/x",
                "postgres://u:***@/x",
            ),
            // The other URL variables too.
            (
                "PUBLIC_URL",
                "ftp://u:hunter2@example.com/",
                "ftp://u:***@example.com/",
            ),
            ("GITHUB_API_URL", "https://u:hunter2@", "https://u:***@"),
        ] {
            let error = config(&[(name, value)]).expect_err(value);
            let message = error.to_string();
            assert_eq!(error.variable, name);
            assert!(!message.contains("hunter2"), "{message}");
            assert!(!message.contains("ter2"), "{message}");
            assert_eq!(error.value, shown, "{message}");
            assert!(message.contains(name), "{message}");
        }
    }

    #[test]
    fn debug_output_hides_the_connection_passwords() {
        let config = config(&[
            ("DATABASE_URL", "postgres://u:hunter2@db.example/gitomatic"),
            ("AMQP_URL", "amqp://guest:hunter3@mq.example:5672/%2f"),
            ("PUBLIC_URL", "https://u:hunter4@api.example/"),
            ("GITHUB_API_URL", "https://u:hunter5@gh.example/"),
        ])
        .expect("valid");
        assert_eq!(
            config.database_url,
            "postgres://u:hunter2@db.example/gitomatic"
        );
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("hunter3"), "{debug}");
        assert!(!debug.contains("hunter4"), "{debug}");
        assert!(!debug.contains("hunter5"), "{debug}");
        assert!(
            debug.contains("postgres://u:***@db.example/gitomatic"),
            "{debug}"
        );
        assert!(
            debug.contains("amqp://guest:***@mq.example:5672/%2f"),
            "{debug}"
        );
    }

    #[test]
    fn a_url_without_a_password_is_shown_unchanged() {
        for value in [
            "postgres://postgres@127.0.0.1:5432/gitomatic",
            "mysql://x",
            "not a url",
            "postgres://h/db?application_name=a:b",
        ] {
            assert_eq!(redact_password(value), value);
        }
    }
}
