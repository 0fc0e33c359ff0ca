//! A headless Chromium (Debian's `chromium`, installed by scripts/setup.sh) and one of its
//! pages, driven over the DevTools protocol: the browser tests read the rendered DOM.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// How long a page may take to answer or show what is awaited.
pub const WAIT: Duration = Duration::from_secs(30);

/// A headless Chromium and one of its pages, driven over the DevTools protocol.
pub struct Browser {
    process: Child,
    profile: PathBuf,
    page: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    next_id: u64,
}

impl Browser {
    /// Starts Chromium and opens `url` in a new page (not waiting for it to load).
    pub async fn open(url: &str) -> Browser {
        let profile =
            std::env::temp_dir().join(format!("gitomatic-chromium-{}", uuid::Uuid::new_v4()));
        let process = Command::new("chromium")
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,1000",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromium starts (Debian package `chromium`, installed by scripts/setup.sh)");
        // Chromium writes the port it chose into the profile.
        let port_file = profile.join("DevToolsActivePort");
        let deadline = tokio::time::Instant::now() + WAIT;
        let port = loop {
            if let Some(port) = std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|text| text.lines().next().map(str::to_owned))
                .filter(|line| !line.is_empty())
            {
                break port;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "chromium never listened"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let target: Value = reqwest::Client::new()
            .put(format!("http://127.0.0.1:{port}/json/new?about:blank"))
            .send()
            .await
            .expect("DevTools answers")
            .json()
            .await
            .expect("a target");
        let socket = target["webSocketDebuggerUrl"]
            .as_str()
            .expect("a page socket");
        let (page, _) = tokio_tungstenite::connect_async(socket)
            .await
            .expect("DevTools socket");
        let mut browser = Browser {
            process,
            profile,
            page,
            next_id: 0,
        };
        // Navigated to rather than given to /json/new, whose query would cut `url` at `&`.
        browser.call("Page.navigate", json!({"url": url})).await;
        browser
    }

    /// Calls a DevTools method and returns its result.
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let message = json!({"id": id, "method": method, "params": params}).to_string();
        self.page
            .send(Message::text(message))
            .await
            .expect("send to DevTools");
        loop {
            let message = tokio::time::timeout(WAIT, self.page.next())
                .await
                .expect("DevTools answers in time")
                .expect("the socket stays open")
                .expect("a message");
            let Message::Text(text) = message else {
                continue;
            };
            let answer: Value = serde_json::from_str(&text).expect("json");
            if answer["id"] == id {
                return answer["result"].clone();
            }
        }
    }

    /// Evaluates a JavaScript expression in the page and returns its value.
    pub async fn eval(&mut self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true}),
            )
            .await;
        result["result"]["value"].clone()
    }

    /// Evaluates `expression` until it gives `expected`.
    pub async fn wait_for(&mut self, expression: &str, expected: Value) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let value = self.eval(expression).await;
            if value == expected {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{expression} is {value}, never {expected}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Loads `url` in the page and waits until it has loaded.
    pub async fn navigate(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url})).await;
        self.wait_for_load(url).await;
    }

    /// Waits until the page shows `url` (its `location.href`) fully loaded.
    pub async fn wait_for_load(&mut self, url: &str) {
        self.wait_for(
            &format!(
                "location.href === {} && document.readyState === 'complete'",
                json!(url)
            ),
            json!(true),
        )
        .await;
    }

    /// Lays pages out on a screen of `width` by `height` CSS pixels, a phone's (which reads
    /// the page's viewport meta) when `mobile`.
    pub async fn emulate_width(&mut self, width: u32, height: u32, mobile: bool) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        )
        .await;
    }

    /// A PNG of the whole page beyond the viewport when `full_page`, else of what the
    /// viewport shows.
    pub async fn screenshot(&mut self, full_page: bool) -> Vec<u8> {
        let shot = self
            .call(
                "Page.captureScreenshot",
                json!({"format": "png", "captureBeyondViewport": full_page}),
            )
            .await;
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("screenshot data"))
            .expect("base64")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
