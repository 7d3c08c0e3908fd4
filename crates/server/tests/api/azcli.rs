//! The official az CLI (PyPI `azure-cli`, installed by `cargo xtask setup`
//! in .tools/venv), unpatched, against a server with `--listen-tls`: it
//! registers the server as a cloud from its metadata document, logs in with
//! the server's managed identity (App Service's protocol, from
//! `DATA_DIR/azure-env.sh`), and manages caches, firewall rules and a
//! geo-replication link over HTTPS. One test: each `az` command takes a
//! second or more.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use tempfile::TempDir;

use crate::support::{Server, RG};

/// The tenant of every local subscription (control::subscriptions::TENANT).
const TENANT: &str = "00000000-0000-0000-0000-000000000000";

/// `az` with its own configuration directory and the server's environment.
struct Az {
    program: PathBuf,
    config: TempDir,
    env: Vec<(String, String)>,
}

impl Az {
    /// Set-up installs the CLI, so a missing one fails rather than skips.
    fn new(server: &Server) -> Az {
        let program = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.tools/venv/bin/az");
        assert!(
            program.exists(),
            "the az CLI test needs {}: run `cargo xtask setup`",
            program.display()
        );
        Az {
            program,
            config: TempDir::with_prefix("georep-az-").expect("a temp dir"),
            env: server.azure_env().expect("the server wrote azure-env.sh"),
        }
    }

    /// Runs `az ARGS -o json` and returns its output, failing with what it said.
    fn run(&self, args: &[&str]) -> Value {
        let output = Command::new(&self.program)
            .args(args)
            .args(["--output", "json", "--only-show-errors"])
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("AZURE_CONFIG_DIR", self.config.path())
            .env("AZURE_CORE_COLLECT_TELEMETRY", "false")
            .env("AZURE_CORE_NO_COLOR", "true")
            .env("AZURE_CORE_SURVEY_MESSAGE", "false")
            .output()
            .expect("az runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "`az {}` failed:\n{stdout}\n{stderr}",
            args.join(" ")
        );
        if stdout.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&stdout).unwrap_or_else(|e| {
                panic!("`az {}` printed no JSON ({e}): {stdout}", args.join(" "))
            })
        }
    }
}

fn names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|item| item["name"].as_str().expect("a name").to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn the_official_az_cli_registers_logs_in_and_manages_caches_and_links() {
    let dir = std::sync::Arc::new(TempDir::new().expect("temp dir"));
    let server = Server::start_with(dir, &["--listen-tls", "127.0.0.1:0"]);
    let https = server
        .tls_base()
        .expect("the server serves HTTPS")
        .to_owned();
    let az = Az::new(&server);

    // The endpoint with a trailing slash, as a user copies it.
    az.run(&[
        "cloud",
        "register",
        "-n",
        "georep",
        "--endpoint-resource-manager",
        &format!("{https}/"),
    ]);
    az.run(&["cloud", "set", "-n", "georep"]);
    let cloud = az.run(&["cloud", "show", "-n", "georep"]);
    assert_eq!(cloud["endpoints"]["resourceManager"], format!("{https}/"));

    let accounts = az.run(&["login", "--identity"]);
    let account = &accounts[0];
    assert_eq!(account["tenantId"], TENANT, "{accounts}");
    assert_eq!(account["user"]["type"], "servicePrincipal");
    assert_eq!(account["environmentName"], "georep");

    let (a, b) = ("azcli-primary", "azcli-secondary");
    for (name, location) in [(a, "westeurope"), (b, "northeurope")] {
        let created = az.run(&[
            "redis",
            "create",
            "-n",
            name,
            "-g",
            RG,
            "-l",
            location,
            "--sku",
            "Premium",
            "--vm-size",
            "P1",
        ]);
        assert_eq!(created["provisioningState"], "Succeeded", "{created}");
        assert_eq!(created["sku"]["name"], "Premium");
        assert_eq!(created["sku"]["capacity"], 1);
    }

    let shown = az.run(&["redis", "show", "-n", a, "-g", RG]);
    assert_eq!(shown["name"], a);
    assert!(shown["accessKeys"].is_null(), "no keys on a GET: {shown}");
    assert!(!shown["hostName"].as_str().unwrap_or_default().is_empty());
    assert_eq!(shown["redisConfiguration"]["maxclients"], "7500");

    let listed = az.run(&["redis", "list", "-g", RG]);
    assert_eq!(names(&listed), [a, b]);

    let keys = az.run(&["redis", "list-keys", "-n", a, "-g", RG]);
    let primary = keys["primaryKey"].as_str().expect("a primary key");
    assert_eq!(primary.len(), 44);
    assert_ne!(keys["primaryKey"], keys["secondaryKey"]);

    // `az redis update` never waits (its setter is always no-wait): it
    // prints the PATCH's 202, the cache as it was and `Updating`, as
    // Azure's recording answers; the change shows once it is applied.
    let updated = az.run(&["redis", "update", "-n", a, "-g", RG, "--set", "tags.x=y"]);
    assert_eq!(updated["provisioningState"], "Updating", "{updated}");
    assert!(updated["tags"].get("x").is_none(), "{updated}");
    assert_eq!(
        az.run(&["redis", "show", "-n", a, "-g", RG])["tags"]["x"],
        "y"
    );

    let rebooted = az.run(&[
        "redis",
        "force-reboot",
        "-n",
        a,
        "-g",
        RG,
        "--reboot-type",
        "SecondaryNode",
    ]);
    assert!(
        rebooted["message"]
            .as_str()
            .unwrap_or_default()
            .contains("rebooted"),
        "{rebooted}"
    );

    let rule = az.run(&[
        "redis",
        "firewall-rules",
        "create",
        "-n",
        b,
        "-g",
        RG,
        "--rule-name",
        "office",
        "--start-ip",
        "10.0.0.1",
        "--end-ip",
        "10.0.0.9",
    ]);
    assert_eq!(rule["startIp"], "10.0.0.1", "{rule}");
    let rules = az.run(&["redis", "firewall-rules", "list", "-n", b, "-g", RG]);
    assert_eq!(names(&rules), [format!("{b}/office")]);

    let link = az.run(&[
        "redis",
        "server-link",
        "create",
        "-n",
        a,
        "-g",
        RG,
        "--server-to-link",
        b,
        "--replication-role",
        "Secondary",
    ]);
    assert_eq!(link["provisioningState"], "Succeeded", "{link}");
    assert_eq!(link["name"], b);
    assert_eq!(link["serverRole"], "Secondary");
    let got = az.run(&[
        "redis",
        "server-link",
        "show",
        "-n",
        a,
        "-g",
        RG,
        "--linked-server-name",
        b,
    ]);
    assert!(
        !got["geoReplicatedPrimaryHostName"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{got}"
    );
    assert_eq!(
        names(&az.run(&["redis", "server-link", "list", "-n", a, "-g", RG])),
        [b]
    );
    let from_b = az.run(&["redis", "server-link", "list", "-n", b, "-g", RG]);
    assert_eq!(from_b[0]["serverRole"], "Primary", "{from_b}");

    az.run(&[
        "redis",
        "server-link",
        "delete",
        "-n",
        a,
        "-g",
        RG,
        "--linked-server-name",
        b,
    ]);
    assert_eq!(
        az.run(&["redis", "server-link", "list", "-n", a, "-g", RG]),
        serde_json::json!([])
    );

    az.run(&["redis", "delete", "-n", b, "-g", RG, "--yes"]);
    assert_eq!(names(&az.run(&["redis", "list", "-g", RG])), [a]);
}
