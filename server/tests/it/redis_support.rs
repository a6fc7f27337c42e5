//! Redis for tests: the machine's shared server (`PLENARY_TEST_REDIS`, default
//! `redis://127.0.0.1:6379`) under a key prefix of the test's own, deleted afterwards; and
//! private `redis-server` processes on ephemeral loopback ports for tests that stop Redis.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The shared Redis with a prefix no other test uses; its keys are deleted on drop.
pub struct TestRedis {
    pub url: String,
    pub prefix: String,
}

impl TestRedis {
    pub fn new() -> TestRedis {
        let url = std::env::var("PLENARY_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
        let client = redis::Client::open(url.as_str()).expect("PLENARY_TEST_REDIS is a redis:// URL");
        if let Err(e) = client.get_connection_with_timeout(Duration::from_secs(2)) {
            panic!(
                "Redis is not reachable at {url} ({e}). The Redis tests need a server: start one \
                 (`redis-server --daemonize yes --port 6379 --save '' --appendonly no`, which `.ci/run` \
                 does when redis-server is installed) or name another with PLENARY_TEST_REDIS=redis://..."
            );
        }
        let prefix = format!("plenary-test-{}:", uuid::Uuid::new_v4().simple());
        TestRedis { url, prefix }
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        let Ok(client) = redis::Client::open(self.url.as_str()) else { return };
        let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_secs(2)) else { return };
        let keys: Vec<String> =
            redis::cmd("KEYS").arg(format!("{}*", self.prefix)).query(&mut conn).unwrap_or_default();
        if !keys.is_empty() {
            let _: redis::RedisResult<()> = redis::cmd("DEL").arg(keys).query(&mut conn);
        }
    }
}

/// A `redis-server` of this test's own on a free loopback port, keeping nothing on disk.
pub struct PrivateRedis {
    pub port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    pub fn start() -> PrivateRedis {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut redis = PrivateRedis { port, child: None };
        redis.restart();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again, empty) on the same port and waits until it answers.
    pub fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string(), "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("redis-server could not start ({e}): install it (apt-get install redis-server)")
            });
        self.child = Some(child);
        let client = redis::Client::open(self.url()).unwrap();
        for _ in 0..200 {
            if let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_millis(200))
                && redis::cmd("PING").query::<String>(&mut conn).is_ok()
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("the private redis-server on port {} never answered", self.port);
    }

    /// Kills the server at once (SIGKILL): everything it held is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}
