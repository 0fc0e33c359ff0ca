//! Private RabbitMQ nodes and PostgreSQL clusters on their own ports, so fault tests can
//! restart a broker or a database without disturbing the machine's shared services.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A free TCP port on 127.0.0.1 below 30000 (RabbitMQ's CLI uses the port + 10000 too).
fn free_port() -> u16 {
    for _ in 0..200 {
        let port = 10_000 + (rand::random::<u16>() % 20_000);
        let both_free = [port, port + 1, port + 10_000]
            .iter()
            .all(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok());
        if both_free {
            return port;
        }
    }
    panic!("no free port for a private service");
}

fn run(command: &mut Command) -> bool {
    command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// A RabbitMQ node of its own (`rabbitmq-server -detached` with private ports and dirs).
pub struct PrivateRabbit {
    /// `amqp://guest:guest@127.0.0.1:PORT/%2f`
    pub url: String,
    node: String,
    dir: PathBuf,
}

impl PrivateRabbit {
    /// Starts a node and waits until it accepts connections.
    pub fn start() -> Self {
        let port = free_port();
        let node = format!("gitomatic-test-{port}@localhost");
        let dir = std::env::temp_dir().join(format!("gitomatic-rabbit-{port}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("rabbit dir");
        std::fs::write(dir.join("enabled_plugins"), "[].").expect("plugins file");
        // The Debian wrapper runs the node as the rabbitmq user.
        run(Command::new("chown")
            .args(["-R", "rabbitmq:rabbitmq"])
            .arg(&dir));
        let started = run(Command::new("rabbitmq-server")
            .arg("-detached")
            .env("RABBITMQ_NODENAME", &node)
            .env("RABBITMQ_NODE_PORT", port.to_string())
            .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_DIST_PORT", (port + 1).to_string())
            .env("RABBITMQ_MNESIA_BASE", dir.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", dir.join("log"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", dir.join("enabled_plugins"))
            .env("RABBITMQ_CONFIG_FILE", dir.join("rabbitmq"))
            .env("RABBITMQ_PID_FILE", dir.join("pid")));
        assert!(started, "rabbitmq-server -detached failed");
        let rabbit = Self {
            url: format!("amqp://guest:guest@127.0.0.1:{port}/%2f"),
            node,
            dir,
        };
        rabbit.wait_until_up(port);
        rabbit
    }

    fn ctl(&self, args: &[&str]) -> bool {
        run(Command::new("rabbitmqctl")
            .arg("-q")
            .arg("-n")
            .arg(&self.node)
            .args(args))
    }

    fn wait_until_up(&self, port: u16) {
        for _ in 0..240 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
                && self.ctl(&["await_startup"])
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!("private RabbitMQ node {} did not start", self.node);
    }

    /// Stops the broker application (every connection drops), then starts it again.
    /// Durable queues and persistent messages survive.
    pub fn restart(&self, down_for: Duration) {
        assert!(self.ctl(&["stop_app"]), "stop_app");
        std::thread::sleep(down_for);
        assert!(self.ctl(&["start_app"]), "start_app");
    }
}

impl Drop for PrivateRabbit {
    fn drop(&mut self) {
        self.ctl(&["stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A PostgreSQL cluster of its own (initdb + pg_ctl as the postgres user).
pub struct PrivatePostgres {
    /// `postgres://postgres@127.0.0.1:PORT` (no database name).
    pub server_url: String,
    bin: PathBuf,
    dir: PathBuf,
    options: String,
}

impl PrivatePostgres {
    /// Creates and starts a cluster; trust authentication on 127.0.0.1 only.
    pub fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL server binaries in /usr/lib/postgresql")
            .filter_map(Result::ok)
            .map(|entry| entry.path().join("bin"))
            .max()
            .expect("a PostgreSQL version");
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("gitomatic-pg-{port}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("pg dir");
        run(Command::new("chown").arg("postgres").arg(&dir));
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            dir.display()
        );
        let postgres = Self {
            server_url: format!("postgres://postgres@127.0.0.1:{port}"),
            bin,
            dir,
            options,
        };
        assert!(
            postgres.as_postgres(
                "initdb",
                &[
                    "-D",
                    &postgres.data(),
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "--no-sync",
                    "-E",
                    "UTF8"
                ]
            ),
            "initdb"
        );
        assert!(postgres.pg_ctl(&["start"]), "pg_ctl start");
        postgres
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn as_postgres(&self, program: &str, args: &[&str]) -> bool {
        run(Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join(program))
            .args(args))
    }

    fn pg_ctl(&self, args: &[&str]) -> bool {
        let data = self.data();
        let log = self.dir.join("log").display().to_string();
        let mut all = vec![
            "-D",
            data.as_str(),
            "-l",
            log.as_str(),
            "-w",
            "-o",
            self.options.as_str(),
        ];
        all.extend_from_slice(args);
        self.as_postgres("pg_ctl", &all)
    }

    /// Restarts the server: every connection drops; the data stays.
    pub fn restart(&self, down_for: Duration) {
        assert!(self.pg_ctl(&["-m", "fast", "stop"]), "pg_ctl stop");
        std::thread::sleep(down_for);
        assert!(self.pg_ctl(&["start"]), "pg_ctl start");
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        self.pg_ctl(&["-m", "immediate", "stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
