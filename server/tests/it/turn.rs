//! TURN REST credentials against a real coturn (Debian's `coturn`, which the test command
//! installs when missing): `deploy/coturn/turnserver.conf`, run on loopback, accepts the
//! credentials Plenary hands a call member and refuses expired or forged ones.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use plenary_proto::UserId;
use plenary_server::ice::turn_credential;

const SECRET: &str = "loopback-turn-secret-0123456789";

fn require(tool: &str) {
    let found =
        Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().is_ok_and(|o| o.status.success());
    assert!(found, "{tool} is missing: install Debian's coturn (apt-get install coturn); `bash .ci/run` does");
}

/// A free UDP port on loopback (the socket is closed again before coturn binds it).
fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The deploy file with what a loopback test needs instead of its network settings.
fn loopback_config(port: u16, relay_from: u16) -> String {
    let deploy = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/coturn/turnserver.conf"))
        .expect("deploy/coturn/turnserver.conf");
    assert!(deploy.lines().any(|l| l.trim() == "use-auth-secret"), "the deploy file uses TURN REST credentials");
    let replaced =
        ["static-auth-secret", "realm", "listening-port", "tls-listening-port", "min-port", "max-port", "cert", "pkey"];
    let mut config: Vec<String> = deploy
        .lines()
        .filter(|l| !replaced.iter().any(|key| l.starts_with(&format!("{key}="))))
        // The deploy file forbids relaying to loopback; here both ends are on loopback.
        .filter(|l| !l.starts_with("denied-peer-ip=127."))
        .map(str::to_owned)
        .collect();
    config.extend([
        format!("static-auth-secret={SECRET}"),
        "realm=plenary.test".to_owned(),
        "listening-ip=127.0.0.1".to_owned(),
        "relay-ip=127.0.0.1".to_owned(),
        format!("listening-port={port}"),
        format!("min-port={relay_from}"),
        format!("max-port={}", relay_from + 40),
        "no-tls".to_owned(),
        "no-dtls".to_owned(),
        "allow-loopback-peers".to_owned(),
    ]);
    config.join("\n") + "\n"
}

/// Allocates a relay (and exchanges a few packets client to client) with these credentials.
fn allocates(port: u16, username: &str, password: &str) -> bool {
    Command::new("turnutils_uclient")
        .args(["-p", &port.to_string(), "-u", username, "-w", password, "-y", "-n", "2", "-c", "127.0.0.1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

struct Kill(std::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn coturn_accepts_fresh_credentials_and_refuses_expired_or_forged_ones() {
    require("turnserver");
    require("turnutils_uclient");
    let port = free_udp_port();
    let relay_from = 40_000 + port % 20_000;
    let dir = std::env::temp_dir().join(format!("plenary-turn-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("turnserver.conf");
    std::fs::File::create(&conf).unwrap().write_all(loopback_config(port, relay_from).as_bytes()).unwrap();
    let server = Kill(
        Command::new("turnserver")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("turnserver starts"),
    );

    let user = UserId::parse("auth0|ada").unwrap();
    let now = plenary_server::clock::unix_secs();
    let fresh = turn_credential(SECRET, &user, now + 600);
    // Ready when it first allocates: bounded, and the server must not have exited.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !allocates(port, &fresh.username, &fresh.password) {
        assert!(Instant::now() < deadline, "coturn did not accept fresh credentials within 20 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    let expired = turn_credential(SECRET, &user, now - 600);
    assert!(!allocates(port, &expired.username, &expired.password), "expired credentials must be refused");
    let forged = turn_credential("some-other-secret-0123456789", &user, now + 600);
    assert!(!allocates(port, &forged.username, &forged.password), "credentials from another secret must be refused");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
