//! The real `usher` binary: `serve` with the embedded defaults, `token`,
//! `users promote`, `migrate`, `config`, `openapi`, and a graceful SIGTERM.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn usher(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_usher"));
    cmd.current_dir(dir).env_remove("RUST_LOG").env("USHER_SERVER__ADDR", "127.0.0.1:0").env("NO_COLOR", "1");
    // A developer's own settings must not leak into the test.
    for (key, _) in std::env::vars() {
        if key.starts_with("USHER_") && key != "USHER_SERVER__ADDR" {
            cmd.env_remove(key);
        }
    }
    cmd
}

fn output(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().expect("running usher");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Starts `usher` (serve) and reads its log until it says it is serving.
fn serve(dir: &Path) -> (Child, String) {
    serve_with(usher(dir))
}

/// Starts `cmd` (an `usher` serving) and reads its log until it says it is
/// serving (connected and migrated), with the address it serves on.
fn serve_with(cmd: Command) -> (Child, String) {
    let (child, base, _log) = serve_logged(cmd);
    (child, base)
}

/// [`serve_with`], also handing over the log lines that follow "serving".
fn serve_logged(mut cmd: Command) -> (Child, String, std::sync::mpsc::Receiver<String>) {
    let mut child = cmd.stderr(Stdio::piped()).stdout(Stdio::null()).spawn().expect("starting usher");
    let stderr = child.stderr.take().expect("stderr is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    let (log_tx, log_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut serving = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if serving {
                let _ = log_tx.send(line);
            } else if line.contains("serving")
                && let Some(rest) = line.split("addr=").nth(1)
            {
                serving = true;
                let _ = tx.send(rest.split_whitespace().next().unwrap_or_default().to_owned());
            }
        }
    });
    let addr = rx.recv_timeout(Duration::from_secs(30)).expect("usher logged that it is serving");
    (child, format!("http://{addr}"), log_rx)
}

/// Once `usher` said it is serving, it is ready: one look, no polling.
async fn wait_ready(base: &str) {
    let res = reqwest::get(format!("{base}/readyz")).await.expect("usher answers");
    assert_eq!(res.status(), 200, "usher said it is serving but is not ready");
}

/// Waits for `child` to exit, at most `limit`.
fn exit_within(mut child: Child, limit: Duration) -> std::process::ExitStatus {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    rx.recv_timeout(limit).expect("usher exited in time").expect("waiting for usher")
}

#[tokio::test]
async fn a_newcomer_can_serve_mint_a_token_call_the_api_and_promote_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let (child, base) = serve(dir.path());
    wait_ready(&base).await;
    assert!(dir.path().join("data/usher.db").exists(), "the embedded SQLite database lives in ./data");
    assert!(dir.path().join("data/hs256.secret").exists(), "the dev secret is generated into ./data");

    let (ok, token, hints) =
        output(usher(dir.path()).args(["token", "--email", "ada@example.com", "--name", "Ada Lovelace"]));
    assert!(ok, "{hints}");
    let token = token.trim();
    assert_eq!(token.split('.').count(), 3, "stdout is the token alone: {token}");
    assert!(hints.contains("/dashboard/#token="), "{hints}");

    let client = reqwest::Client::new();
    let res = client.post(format!("{base}/user/get")).bearer_auth(token).send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    let user: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["displayName"], "Ada Lovelace");

    let (ok, out, _) = output(usher(dir.path()).args(["users", "promote", "ada@example.com"]));
    assert!(ok && out.contains("superuser"), "{out}");
    let (ok, _, err) = output(usher(dir.path()).args(["users", "promote", "nobody@example.com"]));
    assert!(!ok && err.contains("sign in once first"), "{err}");

    let (ok, out, _) = output(usher(dir.path()).arg("migrate"));
    assert!(ok && out.contains("up to date"), "{out}");

    // SIGTERM drains and exits cleanly.
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = exit_within(child, Duration::from_secs(30));
    assert!(status.success(), "{status}");
}

#[test]
fn config_prints_the_effective_settings_with_secrets_redacted() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("usher.toml"), "[auth]\nhs256_secret = \"a-secret-from-the-file-of-32-bytes!!\"\n")
        .unwrap();
    let (ok, out, err) =
        output(usher(dir.path()).arg("config").env("USHER_DATABASE__URL", "postgres://u:hunter2@db/usher"));
    assert!(ok, "{err}");
    assert!(out.contains("[server]") && out.contains("addr = \"127.0.0.1:0\""), "{out}");
    assert!(!out.contains("a-secret-from-the-file") && !out.contains("hunter2"), "{out}");
    assert!(out.contains("***"), "{out}");
}

/// `usher openapi` prints, without serving, the document `/openapi.json` serves.
#[tokio::test]
async fn openapi_prints_the_document_the_service_serves() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, printed, err) = output(usher(dir.path()).arg("openapi"));
    assert!(ok, "{err}");
    let printed: serde_json::Value = serde_json::from_str(&printed).expect("the output is JSON");
    let (child, base) = serve(dir.path());
    wait_ready(&base).await;
    let served: serde_json::Value = reqwest::get(format!("{base}/openapi.json")).await.unwrap().json().await.unwrap();
    assert_eq!(printed, served);
    assert!(printed["paths"]["/user/session"]["post"].is_object(), "every route is in it");
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    assert!(exit_within(child, Duration::from_secs(30)).success());
}

#[test]
fn an_unknown_setting_or_a_bad_file_is_refused_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = output(usher(dir.path()).arg("config").env("USHER_SERVER__PORT", "1"));
    assert!(!ok && err.contains("invalid configuration"), "{err}");
    std::fs::write(dir.path().join("usher.toml"), "this is not toml").unwrap();
    let (ok, _, err) = output(usher(dir.path()).arg("config"));
    assert!(!ok && err.contains("invalid configuration"), "{err}");
}

/// Replicas must share their secrets: with `USHER_ENV=production`, `serve`
/// refuses to generate any, names what to set, and writes nothing; with
/// them all set, it serves.
#[tokio::test]
async fn production_refuses_to_serve_with_generated_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = output(usher(dir.path()).arg("serve").env("USHER_ENV", "production"));
    assert!(!ok, "{err}");
    for name in ["auth.hs256_secret", "storage.signing_key", "profiles.encryption_keys"] {
        assert!(err.contains(name), "{name} is not named: {err}");
    }
    let generated: Vec<_> = std::fs::read_dir(dir.path().join("data"))
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(generated.is_empty(), "nothing is generated or created: {generated:?}");

    let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // 32 bytes, base64
    let mut cmd = usher(dir.path());
    cmd.arg("serve")
        .env("USHER_ENV", "production")
        .env("USHER_AUTH__HS256_SECRET", "a-shared-secret-of-at-least-32-bytes!")
        .env("USHER_STORAGE__SIGNING_KEY", "a-shared-upload-key-of-32-bytes-or-more")
        .env("USHER_PROFILES__ENCRYPTION_KEYS", format!("[{{id=\"k1\",key=\"{key}\"}}]"))
        .env("USHER_PROFILES__ACTIVE_KEY_ID", "k1");
    let (mut child, base) = serve_with(cmd);
    wait_ready(&base).await;
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn token_refuses_when_the_service_uses_a_jwks() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = output(
        usher(dir.path())
            .args(["token", "--email", "ada@example.com"])
            .env("USHER_AUTH__JWKS_URL", "https://idp.example.com/jwks"),
    );
    assert!(!ok && err.contains("identity provider"), "{err}");
}

/// `usher users promote` and `usher import memberships`, as an operator runs
/// them: only a verified e-mail is trusted with a role (e-mails are not
/// unique), each says what it did per account or line, a file with a bad
/// line imports nothing, and exit codes tell success from failure.
#[tokio::test]
async fn promote_and_import_trust_only_verified_emails_and_say_what_they_did() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = serve(dir.path());
    wait_ready(&base).await;
    let secret = std::fs::read_to_string(dir.path().join("data/hs256.secret")).unwrap();
    let token = |sub: &str, email: &str, verified: bool| {
        let mut claims = test_support::tokens::claims(email);
        claims["sub"] = serde_json::json!(sub);
        claims["email_verified"] = serde_json::json!(verified);
        test_support::tokens::hs256(secret.trim(), &claims)
    };
    let client = reqwest::Client::new();
    let sign_in = |t: String| {
        let client = client.clone();
        let base = base.clone();
        async move {
            let res = client.post(format!("{base}/user/get")).bearer_auth(&t).send().await.unwrap();
            assert_eq!(res.status(), 200);
            res.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
        }
    };
    let ada = token("idp|ada", "ada@example.com", true);
    sign_in(ada.clone()).await;
    let mallory = sign_in(token("evil|ada", "ada@example.com", false)).await;
    let res = client
        .post(format!("{base}/organization/create"))
        .bearer_auth(&ada)
        .json(&serde_json::json!({"name": "Fio School"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // Promotion: the verified account only, one line per account.
    let (ok, out, err) = output(usher(dir.path()).args(["users", "promote", "ada@example.com"]));
    assert!(ok, "{err}");
    assert!(out.contains("is now a superuser"), "{out}");
    assert!(
        out.contains(&format!("user {mallory} ")) && out.contains("not promoted: its e-mail is not verified"),
        "{out}"
    );
    let (ok, _, err) = output(usher(dir.path()).args(["users", "promote", "nobody@example.com"]));
    assert!(!ok && err.contains("sign in once first"), "{err}");
    sign_in(token("evil|eve", "eve@example.com", false)).await;
    let (ok, out, err) = output(usher(dir.path()).args(["users", "promote", "eve@example.com"]));
    assert!(!ok && out.contains("not verified") && err.contains("nobody was promoted"), "{out}{err}");

    // A file with a bad line imports nothing (exit 2), naming the line.
    let file = dir.path().join("members.jsonl");
    let good = |email: &str| {
        format!(
            "{{\"organization\": \"Fio School\", \"email\": \"{email}\", \"role\": \"moderator\", \"joinedAt\": \"2024-01-02T03:04:05Z\"}}"
        )
    };
    std::fs::write(&file, format!("{}\n\n{{\"organization\": \"Fio School\"}}\n", good("bob@example.com"))).unwrap();
    let (ok, _, err) = output(usher(dir.path()).args(["import", "memberships"]).arg(&file));
    assert!(!ok && err.contains("line 3"), "{err}");
    let bob = token("idp|bob", "bob@example.com", true);
    sign_in(bob.clone()).await;
    let got = client.post(format!("{base}/user/get")).bearer_auth(&bob).send().await.unwrap();
    assert_eq!(got.json::<serde_json::Value>().await.unwrap()["organizationMemberships"], serde_json::json!([]));

    // A good file: one line of output per input line, in the file's numbering.
    let lines = [
        good("bob@example.com"),
        good("mal@example.com"),
        good("new@example.com"),
        good("nobody@nowhere.example").replace("Fio School", "Nowhere"),
    ];
    std::fs::write(&file, format!("{}\n\n{}\n{}\n{}\n", lines[0], lines[1], lines[2], lines[3])).unwrap();
    sign_in(token("evil|mal", "mal@example.com", false)).await;
    let (ok, out, err) = output(usher(dir.path()).args(["import", "memberships"]).arg(&file));
    assert!(!ok, "an unknown organization fails the run: {out}{err}");
    assert!(out.contains("line 1: bob@example.com: joined Fio School as moderator"), "{out}");
    assert!(
        out.contains("line 3: mal@example.com: invited to Fio School: account") && out.contains("not verified"),
        "{out}"
    );
    assert!(out.contains("line 4: new@example.com: invited to Fio School: no account yet"), "{out}");
    assert!(out.contains("line 5: nobody@nowhere.example: no organization \"Nowhere\""), "{out}");
    let got = client.post(format!("{base}/user/get")).bearer_auth(&bob).send().await.unwrap();
    assert_eq!(got.json::<serde_json::Value>().await.unwrap()["organizationMemberships"][0]["role"], "moderator");
    // Re-running changes nothing.
    let (_, out, _) = output(usher(dir.path()).args(["import", "memberships"]).arg(&file));
    assert!(out.contains("0 joined, 0 invited") && out.contains("3 unchanged"), "{out}");

    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    assert!(child.wait().unwrap().success());
}

/// SIGTERM drains: a request already in flight when the signal arrives (its
/// body half sent) is answered in full, and the process then exits cleanly.
#[tokio::test]
async fn sigterm_lets_an_in_flight_request_finish_then_exits() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let dir = tempfile::tempdir().unwrap();
    let mut cmd = usher(dir.path());
    // actix-server says when the graceful shutdown starts.
    cmd.env("RUST_LOG", "info,actix_server=info");
    let (child, base, log) = serve_logged(cmd);
    wait_ready(&base).await;
    let (ok, token, hints) = output(usher(dir.path()).args(["token", "--email", "ada@example.com"]));
    assert!(ok, "{hints}");

    let body = br#"{"displayName": "Ada Byron"}"#;
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    // `Expect: 100-continue`: the server answers `100 Continue` once it has
    // read the head, which proves the request is in flight (a connection
    // still idle when the drain starts is closed, and rightly so).
    let head = format!(
        "POST /user/update HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\
         Connection: close\r\n\r\n",
        token.trim(),
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let interim = read_head(&mut stream).await;
    assert!(interim.starts_with("HTTP/1.1 100"), "{interim}");

    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let started = std::thread::spawn(move || {
        log.iter().any(|line| line.contains("SIGTERM received; starting graceful shutdown"))
    });
    assert!(started.join().unwrap(), "usher logged the start of its graceful shutdown");

    // The body, after the server began to drain.
    stream.write_all(body).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"displayName\":\"Ada Byron\""), "{response}");

    let status = exit_within(child, Duration::from_secs(30));
    assert!(status.success(), "{status}");
}

/// With a drain configured, SIGTERM turns readiness off first while the
/// replica still serves (so a load balancer routes elsewhere before the
/// listener closes); a second SIGTERM ends the drain early.
#[tokio::test]
async fn sigterm_turns_readiness_off_and_serves_through_the_drain() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = usher(dir.path());
    cmd.env("RUST_LOG", "info").env("USHER_SERVER__DRAIN_SECONDS", "600");
    let (child, base, log) = serve_logged(cmd);
    wait_ready(&base).await;
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let log = std::thread::spawn(move || {
        let draining = log.iter().any(|line| line.contains("/readyz answers 503 while requests drain"));
        (draining, log)
    });
    let (draining, log) = log.join().unwrap();
    assert!(draining, "usher logged the drain");

    let res = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(res.status(), 503);
    assert!(res.headers().contains_key("retry-after"));
    let problem: serde_json::Value = res.json().await.unwrap();
    assert_eq!(problem["code"], "service.unavailable", "{problem}");
    let health = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200, "still serving during the drain");

    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let ended = std::thread::spawn(move || log.iter().any(|line| line.contains("ending the drain early")));
    assert!(ended.join().unwrap(), "the second signal ended the drain");
    let status = exit_within(child, Duration::from_secs(30));
    assert!(status.success(), "{status}");
}

/// Reads a response head (status line and headers) from `stream`, one byte
/// at a time so nothing after it is consumed.
async fn read_head(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt as _;
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let byte = stream.read_u8().await.expect("reading a response head");
        head.push(byte);
    }
    String::from_utf8_lossy(&head).into_owned()
}
