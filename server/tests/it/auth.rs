//! The handshake: every kind of bad token is refused with its close code; hello timeout,
//! protocol negotiation, token refresh and expiry on a live connection.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use plenary_proto::Role::{Attendee, Moderator};
use plenary_proto::{ClientMsg, ServerMsg};
use plenary_server::config::JwtKeySpec;

use crate::support::*;

async fn refused_with(server: &TestServer, token: &str) -> Ended {
    let mut client = TestClient::connect(server).await;
    client.send(&ClientMsg::Hello { protocol: vec![1], token: token.to_owned() }).await;
    client.ended().await
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

#[tokio::test]
async fn bad_tokens_are_refused_with_codes() {
    let server = TestServer::spawn().await;
    let good = claims("ada", &[Attendee], 600);

    assert_eq!(refused_with(&server, "").await, Ended::Closed(4502), "missing");
    assert_eq!(refused_with(&server, "not.a.jwt").await, Ended::Closed(4502), "malformed");

    let mut forged = sign(&good, SECRET);
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(refused_with(&server, &forged).await, Ended::Closed(4502), "forged signature");

    let other_key = sign(&good, "another-secret-another-secret-0123456789");
    assert_eq!(refused_with(&server, &other_key).await, Ended::Closed(4502), "wrong key");

    let expired = sign(&claims("ada", &[Attendee], -3600), SECRET);
    assert_eq!(refused_with(&server, &expired).await, Ended::Closed(4503), "expired");

    // alg: none, with the claims unsigned.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let body = b64.encode(serde_json::to_string(&good).unwrap().as_bytes());
    assert_eq!(refused_with(&server, &format!("{header}.{body}.")).await, Ended::Closed(4502), "alg none");

    let mut unknown_kid = Header::new(Algorithm::HS256);
    unknown_kid.kid = Some("who".into());
    let token =
        jsonwebtoken::encode(&unknown_kid, &good, &EncodingKey::from_secret(SECRET.as_bytes()).unwrap()).unwrap();
    assert_eq!(refused_with(&server, &token).await, Ended::Closed(4502), "unknown kid");

    let mut bad_claims = good.clone();
    bad_claims.name = "   ".into();
    assert_eq!(refused_with(&server, &sign(&bad_claims, SECRET)).await, Ended::Closed(4502), "empty name");
}

#[tokio::test]
async fn audience_is_checked_when_configured() {
    let server = TestServer::spawn_with(|s| s.jwt_audience = Some("plenary-geneva".into())).await;
    let mut wrong = claims("ada", &[Attendee], 600);
    wrong.aud = Some("some-other-app".into());
    assert_eq!(refused_with(&server, &sign(&wrong, SECRET)).await, Ended::Closed(4502));
    wrong.aud = Some(serde_json::json!(["another", "one-more"]));
    assert_eq!(refused_with(&server, &sign(&wrong, SECRET)).await, Ended::Closed(4502));
    let mut right = claims("ada", &[Attendee], 600);
    right.aud = Some("plenary-geneva".into());
    let mut client = TestClient::connect(&server).await;
    client.hello(&sign(&right, SECRET)).await;
    // Identity providers often send an array of audiences.
    right.aud = Some(serde_json::json!(["account", "plenary-geneva"]));
    let mut client = TestClient::connect(&server).await;
    client.hello(&sign(&right, SECRET)).await;
    // A token not valid yet is refused.
    right.nbf = Some(plenary_server::clock::unix_secs() + 3600);
    assert_eq!(refused_with(&server, &sign(&right, SECRET)).await, Ended::Closed(4502));
}

#[tokio::test]
async fn public_keys_are_pinned_to_their_algorithm() {
    let server = TestServer::spawn_with(|s| {
        s.jwt_public_keys =
            vec![JwtKeySpec { kid: "idp".into(), algorithm: Algorithm::EdDSA, pem: fixture("ed25519-public.pem") }]
    })
    .await;
    let claims = claims("ada", &[Attendee], 600);
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some("idp".into());
    let private = std::fs::read(fixture("ed25519-private.pem")).unwrap();
    let token = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ed_pem(&private).unwrap()).unwrap();
    let mut client = TestClient::connect(&server).await;
    client.hello(&token).await;

    // The same kid with another key's signature.
    let other = std::fs::read(fixture("ed25519-other-private.pem")).unwrap();
    let forged = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ed_pem(&other).unwrap()).unwrap();
    assert_eq!(refused_with(&server, &forged).await, Ended::Closed(4502));

    // Algorithm confusion: HS256 signed with the public key's bytes, under the EdDSA kid.
    let public = std::fs::read(fixture("ed25519-public.pem")).unwrap();
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some("idp".into());
    let confused = jsonwebtoken::encode(&hs, &claims, &EncodingKey::from_secret(&public).unwrap()).unwrap();
    assert_eq!(refused_with(&server, &confused).await, Ended::Closed(4502));
}

#[tokio::test]
async fn hello_must_come_first_and_in_time() {
    let server = TestServer::spawn_with(|s| s.hello_timeout_ms = 200).await;
    let mut silent = TestClient::connect(&server).await;
    assert_eq!(silent.ended().await, Ended::Closed(4002));

    let mut rude = TestClient::connect(&server).await;
    rude.send(&ClientMsg::Leave { rid: plenary_proto::RequestId(1), room: session("x") }).await;
    assert_eq!(rude.ended().await, Ended::Closed(4500));

    let mut future = TestClient::connect(&server).await;
    future.send(&ClientMsg::Hello { protocol: vec![9], token: token("ada", &[Attendee]) }).await;
    assert_eq!(future.ended().await, Ended::Closed(4501));
}

#[tokio::test]
async fn welcome_describes_the_user_and_limits() {
    let server = TestServer::spawn().await;
    let mut client = TestClient::connect(&server).await;
    let ServerMsg::Welcome { protocol, user, roles, limits, .. } = client.hello(&token("ada", &[Moderator])).await
    else {
        unreachable!()
    };
    assert_eq!(protocol, 1);
    assert_eq!(user.id.as_str(), "ada");
    assert_eq!(user.country.as_deref(), Some("CH"));
    assert_eq!(roles, vec![Moderator]);
    assert_eq!(limits.max_message_bytes, 16 * 1024);
}

#[tokio::test]
async fn tokens_refresh_on_a_live_connection_and_expiry_closes_it() {
    // Pings faster than the leeway: a deadline that moved with every loop pass would never
    // fire.
    let server = TestServer::spawn_with(|s| {
        s.jwt_leeway_secs = 1;
        s.ping_interval_ms = 100;
    })
    .await;
    let mut client = TestClient::connect(&server).await;
    client.hello(&sign(&claims("ada", &[Attendee], 2), SECRET)).await;

    let other_user = token("bob", &[Attendee]);
    assert_eq!(error_code(&client.request(|rid| ClientMsg::Refresh { rid, token: other_user }).await), 401);
    let expired = sign(&claims("ada", &[Attendee], -10), SECRET);
    assert_eq!(error_code(&client.request(|rid| ClientMsg::Refresh { rid, token: expired }).await), 401);

    let fresh = sign(&claims("ada", &[Attendee], 600), SECRET);
    assert!(matches!(client.request(|rid| ClientMsg::Refresh { rid, token: fresh }).await, ServerMsg::Ack { .. }));
    // The first token's expiry (and leeway) passes; the refreshed connection stays open.
    assert!(client.try_recv(std::time::Duration::from_millis(3500)).await.is_none());
    client.join(&session("after-refresh")).await;

    // A connection that does not refresh is closed when its token expires.
    let mut lapsing = TestClient::connect(&server).await;
    lapsing.hello(&sign(&claims("carl", &[Attendee], 1), SECRET)).await;
    assert_eq!(lapsing.ended().await, Ended::Closed(4503));
}
