//! The contract, end to end: every answer the emulator gives on the wire, read back by
//! the client's parsers (`token_endpoint`). The requests go through the whole server
//! stack (hyper, limits, routes, handlers) over an in-memory connection.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Config, InMemory, Limits};
use crate::jwt::{Claims, HeaderStyle, Signer};
use crate::token_endpoint::{Identity, OAuthError, TokenResponse, explain};
use crate::wire::oauth::{TOKEN_PATH, TokenError, TokenRequest};

struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

fn fixture_emulator() -> (InMemory, Signer) {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let dir = fixtures.join("emulator");
    let toml = std::fs::read_to_string(dir.join("acme.toml")).unwrap();
    let cfg = Config::from_toml(&toml, &mut |p| std::fs::read(dir.join(p))).unwrap();
    let key_pem = std::fs::read(fixtures.join("keys/base.pkcs8.pem")).unwrap();
    let (key, _) = crate::key::load(&key_pem, None).unwrap();
    (
        InMemory::new(cfg, Limits::default()).unwrap(),
        Signer::new(&key, HeaderStyle::Bare).unwrap(),
    )
}

fn send(emu: &InMemory, request: String) -> Answer {
    let out = emu
        .request(request.as_bytes(), Duration::from_secs(20))
        .unwrap();
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("{request:?} -> {:?}", String::from_utf8_lossy(&out)));
    let head = std::str::from_utf8(&out[..split]).unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|l| l.strip_prefix("content-type: "))
        .unwrap_or("")
        .to_owned();
    Answer {
        status,
        content_type,
        body: out[split + 4..].to_vec(),
    }
}

fn post_form(emu: &InMemory, form: &str) -> Answer {
    send(
        emu,
        format!(
            "POST {TOKEN_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            form.len()
        ),
    )
}

fn get(emu: &InMemory, path: &str, token: &str) -> Answer {
    send(
        emu,
        format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        ),
    )
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn assertion(signer: &Signer, iss: &str, sub: &str, aud: &str, exp: u64) -> String {
    signer
        .sign(&Claims {
            iss: iss.into(),
            sub: sub.into(),
            aud: aud.into(),
            exp,
            iat: None,
        })
        .unwrap()
}

/// A request the emulator refuses with `e`, for every error there is.
fn request_for(e: TokenError, signer: &Signer) -> (String, Option<String>) {
    const LOGIN: &str = "https://login.salesforce.com";
    let later = now() + 120;
    let bearer = |iss: &str, sub: &str, aud: &str, exp: u64| {
        TokenRequest::jwt_bearer(&assertion(signer, iss, sub, aud, exp))
            .to_form()
            .to_string()
    };
    let form = match e {
        TokenError::UnsupportedGrantType => "grant_type=password&assertion=x".to_owned(),
        TokenError::MustUsePost => return (String::new(), Some("GET".into())),
        TokenError::InvalidAssertion => TokenRequest::jwt_bearer("not.a.jwt").to_form().to_string(),
        TokenError::InvalidClientId => bearer("NOPE", "alice@example.com", LOGIN, later),
        TokenError::AppNotFound => bearer("KEY_ECA", "alice@example.com", LOGIN, later),
        TokenError::AudienceInvalid => bearer(
            "KEY_MAIN",
            "alice@example.com",
            "https://test.salesforce.com",
            later,
        ),
        TokenError::Expired => bearer("KEY_MAIN", "alice@example.com", LOGIN, now() - 60),
        TokenError::InactiveUser => bearer("KEY_MAIN", "carol@example.com", LOGIN, later),
        TokenError::NotAdminApproved => bearer("KEY_MAIN", "bob@example.com", LOGIN, later),
        TokenError::NotApproved => bearer("KEY_SELF", "bob@example.com", LOGIN, later),
        TokenError::IpRestricted => bearer("KEY_MAIN", "dave@example.com", LOGIN, later),
    };
    (form, None)
}

#[test]
fn the_client_reads_every_error_the_emulator_sends() {
    let (emu, signer) = fixture_emulator();
    for e in TokenError::ALL {
        let a = match request_for(e, &signer) {
            (_, Some(method)) => send(
                &emu,
                format!(
                    "{method} {TOKEN_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                ),
            ),
            (form, None) => post_form(&emu, &form),
        };
        assert_eq!(a.status, e.status(), "{e}");
        assert_eq!(a.content_type, crate::wire::JSON_CONTENT_TYPE, "{e}");
        let err = OAuthError::parse(a.status, &a.body).unwrap();
        assert_eq!(err.known(), Some(e), "{}", String::from_utf8_lossy(&a.body));
        assert_eq!(
            (err.error.as_str(), err.description.as_str()),
            (e.code(), e.description())
        );
        assert!(explain(&err, &Default::default()).advice.is_some(), "{e}");
    }
}

#[test]
fn the_client_reads_the_grant_identity_and_userinfo() {
    let (emu, signer) = fixture_emulator();
    let a = assertion(
        &signer,
        "KEY_MAIN",
        "alice@example.com",
        "https://login.salesforce.com",
        now() + 120,
    );
    let answer = post_form(&emu, &TokenRequest::jwt_bearer(&a).to_form());
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let grant = TokenResponse::parse(&answer.body).unwrap();
    assert!(grant.access_token.expose().starts_with("00Dxx0000001gPL!"));
    assert_eq!(grant.token_type.as_deref(), Some("Bearer"));
    assert_eq!(grant.scope.as_deref(), Some("api web"));
    assert_eq!(grant.org_id(), Some("00Dxx0000001gPLEAY"));
    assert_eq!(grant.user_id(), Some("005xx000001SwiUAAS"));
    assert!(grant.other.0.is_empty(), "{:?}", grant.other);

    let token = grant.access_token.expose();
    let id = grant.id.as_deref().unwrap();
    let id_path = &id[id.find("/id/").unwrap()..];
    for path in [id_path, crate::wire::identity::USERINFO_PATH] {
        let answer = get(&emu, path, token);
        assert_eq!(answer.status, 200, "{path}");
        let who = Identity::parse(path, &answer.body).unwrap();
        assert_eq!(who.username, "alice@example.com", "{path}");
        assert_eq!(who.user_id.as_deref(), Some("005xx000001SwiUAAS"), "{path}");
        assert_eq!(who.organization_id.as_deref(), Some("00Dxx0000001gPLEAY"));
        assert_eq!(who.display_name.as_deref(), Some("Alice Example"), "{path}");
        assert_eq!(who.active, Some(true));
    }
    // A refused token: the text the client reports as a rejection.
    let answer = get(&emu, id_path, "00Dxx0000001gPL!bogus");
    assert_eq!(answer.status, 403);
    assert_eq!(
        answer.body,
        crate::wire::identity::BAD_OAUTH_TOKEN.as_bytes()
    );
}

#[test]
fn a_session_for_a_user_reaches_the_rest_api_as_that_user() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let dir = fixtures.join("emulator");
    let toml = std::fs::read_to_string(dir.join("acme.toml")).unwrap();
    let cfg = Config::from_toml(&toml, &mut |p| std::fs::read(dir.join(p))).unwrap();
    let running = super::start(cfg, super::ServerOptions::default()).unwrap();
    let token = running.session_for("erin@example.com").unwrap();
    assert!(token.starts_with("00Dxx0000001gPL!"), "{token}");
    let body = ureq::get(&format!("{}/services/oauth2/userinfo", running.base_url()))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["preferred_username"], "erin@example.com", "{v}");
    assert!(running.session_for("nobody@example.com").is_err());
    running.shutdown();
}

/// The SOAP Metadata API's answers, read by the client's parsers (`wire::metadata::soap`):
/// records, the empty record of a name the org lacks, `FileProperties`, and a fault.
#[test]
fn the_client_reads_the_soap_metadata_answers() {
    use crate::wire::metadata::soap::{
        ListQuery, SoapAnswerError, SoapCall, parse_list_response, parse_read_response, soap_path,
    };
    let (emu, _) = fixture_emulator();
    let token = emu.token(0, 0).unwrap();
    let post = |call: &SoapCall, token: &str| {
        let body = call.to_envelope(token);
        send(
            &emu,
            format!(
                "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml; charset=UTF-8\r\nSOAPAction: \"\"\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                soap_path(62),
                body.len(),
                body.as_str()
            ),
        )
    };
    let read = SoapCall::ReadMetadata {
        type_name: "ExtlClntAppOauthConfigurablePolicies".into(),
        full_names: vec!["eca_oauthPlcy".into(), "eca_oauth_defaultPolicy".into()],
    };
    let answer = post(&read, &token);
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type, "text/xml;charset=UTF-8");
    let records = parse_read_response(&answer.body).unwrap();
    let policy = records[0].as_ref().unwrap();
    assert_eq!(policy.text_at(&["fullName"]), Some("eca_oauthPlcy"));
    assert_eq!(policy.text_at(&["externalClientApplication"]), Some("eca"));
    assert!(records[1].is_none());
    let list = SoapCall::ListMetadata {
        queries: vec![ListQuery {
            type_name: "ExternalClientApplication".into(),
            folder: None,
        }],
        as_of_version: Some("62.0".into()),
    };
    let props = parse_list_response(&post(&list, &token).body).unwrap();
    assert_eq!(props.len(), 1);
    assert_eq!(props[0].full_name, "eca");
    assert_eq!(props[0].file_name, "externalClientApps/eca.eca");
    let refused = post(&read, "00Dxx0000001gPL!bogus");
    assert_eq!(refused.status, 500);
    match parse_read_response(&refused.body) {
        Err(SoapAnswerError::Fault(f)) => assert_eq!(f.code, "INVALID_SESSION_ID"),
        other => panic!("{other:?}"),
    }
}
