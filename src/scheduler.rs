//! The periodic side of gitomatic: cron expressions for the discovery job.

use croner::parser::{CronParser, Seconds};

/// Checks a cron expression the way the scheduler will parse it: six fields, seconds first.
pub fn validate_cron(expression: &str) -> Result<(), String> {
    let fields = expression.split_whitespace().count();
    if fields != 6 {
        return Err(format!("found {fields} fields"));
    }
    CronParser::builder()
        .seconds(Seconds::Required)
        .dom_and_dow(true)
        .build()
        .parse(expression)
        .map(|_| ())
        .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::validate_cron;

    #[test]
    fn six_fields_with_seconds_are_required() {
        assert!(validate_cron("0 0 * * * *").is_ok());
        assert!(validate_cron("*/5 * * * * *").is_ok());
        assert!(validate_cron("0 * * * *").is_err());
        assert!(validate_cron("0 0 99 * * *").is_err());
    }
}
