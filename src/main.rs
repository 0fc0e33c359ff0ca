//! The `gitomatic` binary: parse the command line and run the subcommand.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    match gitomatic::cli::run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
