//! `tycho quota`: your limits and what your systems hold (CPU, memory, GPUs, systems).

use clap::{Args, ValueEnum};
use tycho_client::api::QuotaReport;

use super::runtime::block_on;
use crate::connection::Connection;
use crate::error::CliError;
use crate::render::table::table;

#[derive(Args, Debug)]
pub struct QuotaArgs {
    /// Another user's quota (admins).
    #[arg(long)]
    pub user: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: QuotaFormat,
    #[command(flatten)]
    pub connection: Connection,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum QuotaFormat {
    Table,
    Json,
}

/// `RESOURCE  USE`: one line per resource, as "3 of 8 CPUs".
pub fn quota_table(report: &QuotaReport) -> String {
    let rows: Vec<Vec<String>> = report
        .resources
        .iter()
        .map(|line| vec![line.resource.as_str().to_string(), line.text.clone()])
        .collect();
    table(&["RESOURCE", "USE"], &rows)
}

pub fn run(args: &QuotaArgs) -> Result<(), CliError> {
    block_on(async {
        let client = args.connection.client().await?;
        let report = match &args.user {
            Some(user) => client.quota_of(user).await?,
            None => client.quota().await?,
        };
        match args.output {
            QuotaFormat::Table => print!("{}", quota_table(&report)),
            QuotaFormat::Json => println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            ),
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tycho_client::api::{QuotaLine, QuotaResource};

    #[test]
    fn one_line_per_resource() {
        let report = QuotaReport {
            username: "alice".into(),
            resources: vec![
                QuotaLine::new(QuotaResource::Systems, 2, Some(5)),
                QuotaLine::new(QuotaResource::Cpu, 3000, Some(8000)),
            ],
            systems: vec![],
        };
        assert_eq!(
            quota_table(&report),
            "RESOURCE  USE\nsystems   2 of 5 systems\ncpu       3 of 8 CPUs\n"
        );
    }
}
