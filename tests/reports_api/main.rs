//! Reports through the running appliance: a customer who leaves while waiting and a
//! chat answered, replied to and wrapped up give today's queue report its figures;
//! the report equals the live console's "today"; the CSV parsed back equals the
//! JSON; bad queries and callers are refused; and `switchboard reports rebuild` on
//! the stopped data directory rebuilds exactly the aggregates that were kept. A
//! declined offer is a reject; a declined transfer request no abandon; a chat put
//! back in its queue at logout and then left stays answered, in the drill-down too.

use crate::common;

mod declines;
mod drill_downs;
mod requeued;
mod today;
mod transfers;

use common::TestServer;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

/// A time with offset as a query value (`+` would read as a space).
fn enc(text: &str) -> String {
    text.replace('+', "%2B")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_routes_are_in_the_openapi_document_with_their_csv_responses() {
    let server = TestServer::start().await;
    let (status, doc) = server.get("/api/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    for path in [
        "/api/v1/reports/{kind}",
        "/api/v1/reports/agents/{id}/timeline",
    ] {
        let content = &doc["paths"][path]["get"]["responses"]["200"]["content"];
        assert!(content["application/json"].is_object(), "{path}: {content}");
        assert!(content["text/csv"].is_object(), "{path}: {content}");
    }
}
