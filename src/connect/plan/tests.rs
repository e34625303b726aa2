use super::*;
use crate::wire::metadata::{DeployZip, ReadOptions, ZipLimits};

const CERT: &str = include_str!("../../../fixtures/certs/base.crt");

fn spec(kind: AppKind) -> AppSpec {
    AppSpec {
        kind,
        name: "acme_jwt".into(),
        label: "acme_jwt".into(),
        contact_email: "admin@acme.example".into(),
        callback_url: PLACEHOLDER_CALLBACK_URL.into(),
        description: "made by certmint".into(),
        consumer_key: new_consumer_key().unwrap(),
        send_consumer_key: true,
        certificate_pem: certificate_text(CERT.as_bytes()).unwrap(),
        scopes: DEFAULT_SCOPES.to_vec(),
        permission_set: Some("acme_jwt".into()),
        permission_set_id: None,
        profiles: vec!["Integration".into()],
        enabled: true,
        parts: EcaPartNames::generated("acme_jwt"),
    }
}

fn read_back(plan: &Plan, kind: MetadataType, name: &str) -> Component {
    let zip = plan.zip().unwrap();
    let read = DeployZip::read(&zip, &ZipLimits::default()).unwrap();
    let f = read
        .find(kind, name)
        .unwrap_or_else(|| panic!("{kind} {name}"));
    let opts = ReadOptions {
        api_version: Some(API_VERSION),
        ..ReadOptions::default()
    };
    Component::from_xml(kind, &f.bytes, &opts).unwrap()
}

#[test]
fn consumer_keys_are_long_random_alphanumerics() {
    let a = new_consumer_key().unwrap();
    let b = new_consumer_key().unwrap();
    assert_eq!(a.len(), CONSUMER_KEY_LEN);
    assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()), "{a}");
    assert_ne!(a, b);
    let all: String = (0..40).map(|_| new_consumer_key().unwrap()).collect();
    for c in ['A', 'Z', 'a', 'z', '0', '9'] {
        assert!(all.contains(c), "{c} never drawn");
    }
}

/// D1, D2: a new app's parts carry the names Salesforce gives a metadata-created app's,
/// and the permission set is not in the deploy (it is made before it).
#[test]
fn a_new_eca_has_its_five_parts_under_salesforces_names_and_no_permission_set() {
    let s = spec(AppKind::ExternalClientApp);
    let plan = s.plan_new().unwrap();
    let files: Vec<String> = plan.files().unwrap().into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        files,
        [
            "package.xml",
            "externalClientApps/acme_jwt.eca",
            "extlClntAppGlobalOauthSets/acme_jwt_glbloauth.ecaGlblOauth",
            "extlClntAppOauthSettings/acme_jwt_oauth.ecaOauth",
            "extlClntAppOauthPolicies/acme_jwt_oauth_defaultPolicy.ecaOauthPlcy",
            "extlClntAppPolicies/acme_jwt_defaultPolicy.ecaPlcy",
        ]
    );
    let Component::ExtlClntAppGlobalOauthSettings(g) = read_back(
        &plan,
        MetadataType::ExtlClntAppGlobalOauthSettings,
        "acme_jwt_glbloauth",
    ) else {
        panic!()
    };
    assert_eq!(g.consumer_key.as_deref(), Some(s.consumer_key.as_str()));
    let Component::ExtlClntAppOauthConfigurablePolicies(p) = read_back(
        &plan,
        MetadataType::ExtlClntAppOauthConfigurablePolicies,
        "acme_jwt_oauth_defaultPolicy",
    ) else {
        panic!()
    };
    assert_eq!(p.comma_separated_permission_set, ["acme_jwt"]);
    assert_eq!(p.comma_separated_profile, ["Integration"]);
    assert!(plan.components.iter().all(|c| c.before.is_none()));
}

#[test]
fn the_digest_ignores_the_consumer_key() {
    let a = spec(AppKind::ExternalClientApp);
    let mut b = a.clone();
    b.send_consumer_key = false;
    b.consumer_key = "other".into();
    assert_eq!(a.plan_new().unwrap().digest, b.plan_new().unwrap().digest);
    let mut d = a.clone();
    d.scopes.push(OauthScope::Web);
    assert_ne!(a.plan_new().unwrap().digest, d.plan_new().unwrap().digest);
}

fn setup_app_parts() -> ExistingEca {
    let el = |x: &str| Element::parse(x.as_bytes()).unwrap();
    let ns = "xmlns=\"http://soap.sforce.com/2006/04/metadata\"";
    ExistingEca {
        name: "acme_jwt".into(),
        parts: EcaPartNames::setup("acme_jwt"),
        read: vec![
            (
                MetadataType::ExtlClntAppGlobalOauthSettings,
                el(&format!(
                    "<ExtlClntAppGlobalOauthSettings {ns}><fullName>acme_jwt_glbloauth</fullName><callbackUrl>https://acme.example/cb</callbackUrl><consumerKey>SETUPKEY123</consumerKey><externalClientApplication>acme_jwt</externalClientApplication><isDeviceFlowEnabled>true</isDeviceFlowEnabled><shouldRotateConsumerKey>false</shouldRotateConsumerKey></ExtlClntAppGlobalOauthSettings>"
                )),
            ),
            (
                MetadataType::ExtlClntAppOauthSettings,
                el(&format!(
                    "<ExtlClntAppOauthSettings {ns}><fullName>acme_jwt_oauth</fullName><commaSeparatedOauthScopes>Web, RefreshToken</commaSeparatedOauthScopes><externalClientApplication>acme_jwt</externalClientApplication></ExtlClntAppOauthSettings>"
                )),
            ),
            (
                MetadataType::ExtlClntAppOauthConfigurablePolicies,
                el(&format!(
                    "<ExtlClntAppOauthConfigurablePolicies {ns}><fullName>acme_jwt_oauthPlcy</fullName><commaSeparatedPermissionSet>Ops</commaSeparatedPermissionSet><externalClientApplication>acme_jwt</externalClientApplication><ipRelaxationPolicyType>Bypass</ipRelaxationPolicyType><permittedUsersPolicyType>AllSelfAuthorized</permittedUsersPolicyType></ExtlClntAppOauthConfigurablePolicies>"
                )),
            ),
            (
                MetadataType::ExtlClntAppConfigurablePolicies,
                el(&format!(
                    "<ExtlClntAppConfigurablePolicies {ns}><fullName>acme_jwt_plcy</fullName><externalClientApplication>acme_jwt</externalClientApplication><isEnabled>true</isEnabled><isOauthPluginEnabled>true</isOauthPluginEnabled></ExtlClntAppConfigurablePolicies>"
                )),
            ),
        ],
        consumer_key: Some("SETUPKEY123".into()),
        complete: true,
    }
}

/// D1, D8: an app made in Setup is deployed to under its own part names, with no
/// consumer key and nothing of its own lost.
#[test]
fn an_existing_eca_is_edited_under_its_own_names_without_its_consumer_key() {
    let mut s = spec(AppKind::ExternalClientApp);
    s.send_consumer_key = false;
    let ex = setup_app_parts();
    let plan = s.plan_edit(Existing::Eca(&ex), Given::default()).unwrap();
    let sent: Vec<&str> = plan.sent().map(|c| c.name.as_str()).collect();
    assert_eq!(
        sent,
        ["acme_jwt_glbloauth", "acme_jwt_oauth", "acme_jwt_oauthPlcy"],
        "the plugin policy is already as wanted; the header is not touched"
    );
    for (_, xml) in plan.files().unwrap() {
        assert!(!xml.contains("consumerKey"), "{xml}");
        assert!(!xml.contains("fullName"), "{xml}");
    }
    let global = plan
        .component(MetadataType::ExtlClntAppGlobalOauthSettings)
        .unwrap();
    assert_eq!(
        global.after.text_at(&["callbackUrl"]),
        Some("https://acme.example/cb")
    );
    assert_eq!(global.after.text_at(&["isDeviceFlowEnabled"]), Some("true"));
    let policy = plan
        .component(MetadataType::ExtlClntAppOauthConfigurablePolicies)
        .unwrap();
    assert_eq!(
        policy.after.text_at(&["commaSeparatedPermissionSet"]),
        Some("Ops, acme_jwt")
    );
    assert_eq!(
        policy.after.text_at(&["ipRelaxationPolicyType"]),
        Some("Bypass")
    );
    assert_eq!(
        policy.after.text_at(&["permittedUsersPolicyType"]),
        Some("AdminApprovedPreAuthorized")
    );
    let scopes = plan
        .component(MetadataType::ExtlClntAppOauthSettings)
        .unwrap();
    assert_eq!(
        scopes.after.text_at(&["commaSeparatedOauthScopes"]),
        Some("Web, RefreshToken, Api")
    );
    // The field-by-field changes say what moves.
    let fields: Vec<String> = policy.changes().into_iter().map(|c| c.field).collect();
    assert_eq!(
        fields,
        [
            "commaSeparatedPermissionSet",
            "commaSeparatedProfile",
            "permittedUsersPolicyType"
        ]
    );
    // Nothing changes once the org holds it.
    let mut ex2 = ex.clone();
    for (kind, el) in &mut ex2.read {
        if let Some(p) = plan.component(*kind) {
            *el = p.after.clone();
        }
    }
    assert!(
        s.plan_edit(Existing::Eca(&ex2), Given::default())
            .unwrap()
            .is_empty()
    );
}

const SHARED_APP: &str = r#"<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">
    <fullName>Shared</fullName>
    <contactEmail>ops@acme.example</contactEmail>
    <ipRanges><end>10.0.0.255</end><start>10.0.0.1</start></ipRanges>
    <label>Shared Integration</label>
    <oauthConfig>
        <callbackUrl>https://acme.example/cb</callbackUrl>
        <consumerKey>SHAREDKEY123</consumerKey>
        <scopes>Web</scopes>
        <scopes>Full</scopes>
    </oauthConfig>
    <oauthPolicy><ipRelaxation>BYPASS</ipRelaxation><refreshTokenPolicy>zero</refreshTokenPolicy></oauthPolicy>
    <profileName>System Administrator</profileName>
    <sessionPolicy><sessionTimeout>15</sessionTimeout></sessionPolicy>
</ConnectedApp>"#;

/// D6, D8: a connected app is changed, not rewritten, and never gets its consumer key.
#[test]
fn a_connected_app_keeps_everything_but_what_certmint_changes() {
    let mut s = spec(AppKind::ConnectedApp);
    s.name = "Shared".into();
    s.send_consumer_key = false;
    s.profiles = Vec::new();
    let before = Element::parse(SHARED_APP.as_bytes()).unwrap();
    let plan = s
        .plan_edit(Existing::ConnectedApp(&before), Given::default())
        .unwrap();
    let files = plan.files().unwrap();
    assert_eq!(files.len(), 2);
    let xml = &files[1].1;
    assert!(!xml.contains("consumerKey"), "{xml}");
    for kept in [
        "<label>Shared Integration</label>",
        "<callbackUrl>https://acme.example/cb</callbackUrl>",
        "<scopes>Web</scopes>",
        "<scopes>Full</scopes>",
        "<ipRelaxation>BYPASS</ipRelaxation>",
        "<sessionTimeout>15</sessionTimeout>",
        "<start>10.0.0.1</start>",
        "<profileName>System Administrator</profileName>",
        "<permissionSetName>acme_jwt</permissionSetName>",
        "<isAdminApproved>true</isAdminApproved>",
        "BEGIN CERTIFICATE",
    ] {
        assert!(xml.contains(kept), "{kept} missing:\n{xml}");
    }
    // Full is a standard scope: Api is not added.
    assert!(!xml.contains("<scopes>Api</scopes>"), "{xml}");
    let Component::ConnectedApp(ca) = read_back(&plan, MetadataType::ConnectedApp, "Shared") else {
        panic!()
    };
    assert_eq!(ca.label, "Shared Integration");
    let changes: Vec<String> = plan.components[0]
        .changes()
        .into_iter()
        .map(|c| c.field)
        .collect();
    assert_eq!(
        changes,
        [
            "oauthConfig/certificate",
            "oauthConfig/isAdminApproved",
            "permissionSetName"
        ]
    );
}

/// D7: retiring takes certmint's pre-authorization off with explicit empty elements
/// when nothing else is left, and certmint's certificate with it; others stay.
#[test]
fn retiring_a_connected_app_removes_only_certmints_part() {
    let mut s = spec(AppKind::ConnectedApp);
    s.name = "Shared".into();
    s.enabled = false;
    s.profiles = Vec::new();
    let mut before = Element::parse(SHARED_APP.as_bytes()).unwrap();
    before
        .set(
            MetadataType::ConnectedApp,
            &["permissionSetName"],
            &["acme_jwt"],
        )
        .unwrap();
    before
        .set(
            MetadataType::ConnectedApp,
            &["oauthConfig", "certificate"],
            &[&s.certificate_pem],
        )
        .unwrap();
    let plan = s
        .plan_edit(Existing::ConnectedApp(&before), Given::default())
        .unwrap();
    let xml = &plan.files().unwrap()[1].1;
    assert!(
        xml.contains("<permissionSetName></permissionSetName>"),
        "{xml}"
    );
    assert!(
        xml.contains("<profileName>System Administrator</profileName>"),
        "{xml}"
    );
    assert!(!xml.contains("certificate"), "{xml}");
    // Someone else's certificate stays.
    let mut other = before.clone();
    other
        .set(
            MetadataType::ConnectedApp,
            &["oauthConfig", "certificate"],
            &["MIIBother"],
        )
        .unwrap();
    let plan = s
        .plan_edit(Existing::ConnectedApp(&other), Given::default())
        .unwrap();
    assert!(plan.files().unwrap()[1].1.contains("MIIBother"));
}

#[test]
fn names() {
    assert_eq!(app_name_from_alias("acme_jwt"), "acme_jwt");
    let long = format!("{}_b", "a".repeat(59));
    assert_eq!(app_name_from_alias(&long), "a".repeat(59));
    assert_eq!(second_app_name("acme_jwt", 2), "acme_jwt_g2");
    assert_eq!(second_app_name("acme_jwt_g2", 3), "acme_jwt_g3");
    assert_eq!(second_app_name(&"a".repeat(60), 12).len(), 60);
    check_app_name("acme_jwt").unwrap();
    assert!(check_app_name("acme__jwt").is_err());
    assert!(check_app_name(&"a".repeat(61)).is_err());
    for kind in crate::wire::metadata::eca::PART_TYPES {
        check_full_name(
            EcaPartNames::generated(&"a".repeat(MAX_APP_NAME))
                .get(*kind)
                .unwrap(),
        )
        .unwrap();
    }
}

#[test]
fn scopes_by_either_name() {
    assert_eq!(parse_scope("Api").unwrap(), OauthScope::Api);
    assert_eq!(
        parse_scope("refresh_token").unwrap(),
        OauthScope::RefreshToken
    );
    assert_eq!(
        parse_scope("refreshtoken").unwrap(),
        OauthScope::RefreshToken
    );
    assert_eq!(parse_scope("openid").unwrap(), OauthScope::OpenId);
    assert!(parse_scope("everything").is_err());
}

#[test]
fn certificates_compare_in_either_form() {
    let pem = certificate_text(CERT.as_bytes()).unwrap();
    let bare: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(same_certificate(&pem, &bare));
    assert!(!same_certificate(&pem, "MIIBother"));
}

/// Fact 4 of the audit: a policy that names the permission set by its id already names it.
#[test]
fn a_policy_naming_the_permission_set_by_id_is_left_as_it_is() {
    let mut s = spec(AppKind::ExternalClientApp);
    s.send_consumer_key = false;
    s.permission_set_id = Some("0PS5g000000AbCdEFG".into());
    let mut ex = setup_app_parts();
    for (kind, el) in &mut ex.read {
        if *kind == MetadataType::ExtlClntAppOauthConfigurablePolicies {
            el.set(
                *kind,
                &["commaSeparatedPermissionSet"],
                &["Ops, 0PS5g000000AbCd"],
            )
            .unwrap();
        }
    }
    let plan = s.plan_edit(Existing::Eca(&ex), Given::default()).unwrap();
    let policy = plan
        .component(MetadataType::ExtlClntAppOauthConfigurablePolicies)
        .unwrap();
    assert_eq!(
        policy.after.text_at(&["commaSeparatedPermissionSet"]),
        Some("Ops, 0PS5g000000AbCd")
    );
    assert!(names_permission_set(&["ACME_JWT".into()], "acme_jwt", None));
    assert!(!names_permission_set(
        &["Other".into()],
        "acme_jwt",
        Some("0PS5g000000AbCd")
    ));
}
