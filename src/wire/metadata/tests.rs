//! The Metadata API contract: what the writer emits reads back under the strict reader
//! (so it is in the schema's order), the reference's examples read, each rule refuses what
//! it should with its position, and deploy results decode in every shape seen.

use super::*;

mod elements;
mod order;

const CERT: &str = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\n-----END CERTIFICATE-----";

fn strict(v: u32) -> ReadOptions {
    ReadOptions {
        api_version: Some(v),
        out_of_order: OutOfOrder::Error,
    }
}

fn full_connected_app() -> ConnectedApp {
    ConnectedApp {
        contact_email: "admin@example.com".into(),
        contact_phone: Some("555".into()),
        description: Some("d & <e>".into()),
        info_url: Some("https://example.com".into()),
        label: "CertMint JWT".into(),
        logo_url: Some("https://example.com/l.png".into()),
        oauth_config: Some(ConnectedAppOauthConfig {
            callback_url: "http://localhost:1717/OauthRedirect".into(),
            certificate: Some(CERT.into()),
            consumer_key: Some("certmint0123456789".into()),
            consumer_secret: Some("s".into()),
            is_admin_approved: Some(true),
            is_client_credential_enabled: Some(false),
            is_consumer_secret_optional: Some(true),
            is_named_user_jwt_enabled: Some(false),
            is_pkce_required: Some(false),
            oauth_client_credential_user: Some("u@example.com".into()),
            scopes: vec![OauthScope::Api, OauthScope::RefreshToken, OauthScope::Web],
        }),
        oauth_policy: Some(ConnectedAppOauthPolicy {
            ip_relaxation: IpRelaxation::Enforce,
            refresh_token_policy: "infinite".into(),
            single_logout_url: Some("https://example.com/logout".into()),
        }),
        permission_set_name: vec!["CertMint_Integration".into(), "Other".into()],
        profile_name: vec!["System Administrator".into()],
        session_policy: Some(ConnectedAppSessionPolicy {
            policy_action: Some("Block".into()),
            session_level: Some(SessionLevel::Standard),
            session_timeout: Some(15),
        }),
        start_url: Some("https://example.com/start".into()),
    }
}

fn every_component() -> Vec<Component> {
    vec![
        Component::ConnectedApp(full_connected_app()),
        Component::ExternalClientApplication(ExternalClientApplication {
            contact_email: "a@example.com".into(),
            contact_phone: Some("1".into()),
            description: Some("x".into()),
            distribution_state: Some(DistributionState::Local),
            info_url: Some("https://i".into()),
            is_protected: Some(false),
            label: "certmint".into(),
            logo_url: Some("https://l".into()),
            org_scoped_external_app: Some("00D:certmint".into()),
        }),
        Component::ExtlClntAppGlobalOauthSettings(ExtlClntAppGlobalOauthSettings {
            callback_url: Some("http://localhost:1717/OauthRedirect".into()),
            certificate: Some(CERT.into()),
            consumer_key: Some("certmintABCDEF0123456789".into()),
            consumer_secret: Some("s".into()),
            external_client_application: "certmint".into(),
            is_client_credentials_flow_enabled: Some(false),
            is_consumer_secret_optional: Some(true),
            is_device_flow_enabled: Some(false),
            is_pkce_required: Some(false),
            label: Some("certmint Global OAuth".into()),
            should_rotate_consumer_key: Some(false),
            should_rotate_consumer_secret: Some(false),
        }),
        Component::ExtlClntAppOauthSettings(ExtlClntAppOauthSettings {
            comma_separated_oauth_scopes: vec![OauthScope::Api, OauthScope::RefreshToken],
            external_client_application: "certmint".into(),
            label: Some("certmint OAuth Settings".into()),
        }),
        Component::ExtlClntAppOauthConfigurablePolicies(ExtlClntAppOauthConfigurablePolicies {
            comma_separated_permission_set: vec!["CertMint_Integration".into()],
            comma_separated_profile: vec!["System Administrator".into(), "Ops".into()],
            external_client_application: "certmint".into(),
            ip_relaxation_policy_type: Some(IpRelaxationPolicyType::Enforce),
            label: Some("p".into()),
            permitted_users_policy_type: Some(PermittedUsersPolicyType::AdminApprovedPreAuthorized),
            refresh_token_policy_type: Some(RefreshTokenPolicyType::SpecificLifetime),
            refresh_token_validity_period: Some(90),
            refresh_token_validity_unit: Some(RefreshTokenValidityUnit::Days),
            required_session_level: Some(SessionLevel::Standard),
            session_timeout_in_minutes: Some(15),
        }),
        Component::ExtlClntAppConfigurablePolicies(ExtlClntAppConfigurablePolicies {
            external_client_application: "certmint".into(),
            is_enabled: true,
            is_oauth_plugin_enabled: Some(true),
            label: Some("certmint_defaultPolicy".into()),
        }),
        Component::PermissionSet(PermissionSet {
            description: Some("d".into()),
            has_activation_required: Some(false),
            label: "CertMint Integration".into(),
            license: None,
            user_permissions: vec![
                PermissionSetUserPermission {
                    enabled: true,
                    name: "ApiEnabled".into(),
                },
                PermissionSetUserPermission {
                    enabled: true,
                    name: "ModifyAllData".into(),
                },
            ],
        }),
    ]
}

#[test]
fn what_is_written_reads_back_under_the_strict_reader() {
    for c in every_component() {
        let xml = c.to_xml().unwrap();
        assert!(
            xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<"),
            "{xml}"
        );
        assert!(
            xml.contains(&format!("<{} xmlns=\"{NAMESPACE}\">", c.kind().name())),
            "{xml}"
        );
        let back = Component::from_xml(c.kind(), xml.as_bytes(), &strict(66))
            .unwrap_or_else(|p| panic!("{p}\n{xml}"));
        assert_eq!(back, c, "{xml}");
    }
}

#[test]
fn elements_are_written_in_the_schema_order() {
    let xml = Component::ConnectedApp(full_connected_app())
        .to_xml()
        .unwrap();
    let order = [
        "<contactEmail>",
        "<contactPhone>",
        "<description>",
        "<infoUrl>",
        "<label>",
        "<logoUrl>",
        "<oauthConfig>",
        "<callbackUrl>",
        "<certificate>",
        "<consumerKey>",
        "<isAdminApproved>",
        "<scopes>Api</scopes>",
        "<scopes>RefreshToken</scopes>",
        "</oauthConfig>",
        "<oauthPolicy>",
        "<ipRelaxation>ENFORCE</ipRelaxation>",
        "<permissionSetName>CertMint_Integration</permissionSetName>",
        "<permissionSetName>Other</permissionSetName>",
        "<profileName>System Administrator</profileName>",
        "<sessionPolicy>",
        "<startUrl>",
    ];
    let mut at = 0;
    for tag in order {
        let i = xml[at..]
            .find(tag)
            .unwrap_or_else(|| panic!("{tag} after {at} in\n{xml}"));
        at += i;
    }
    assert!(xml.contains("d &amp; &lt;e&gt;"), "{xml}");
    assert!(xml.contains("\n    <label>CertMint JWT</label>\n"), "{xml}");
}

/// The reference's minimal examples (ConnectedApp §1.3 and the ECA set §2.3).
#[test]
fn the_reference_examples_read() {
    let ca = r#"<?xml version="1.0" encoding="UTF-8"?>
<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">
    <contactEmail>admin@example.com</contactEmail>
    <label>CertMint JWT</label>
    <oauthConfig>
        <callbackUrl>http://localhost:1717/OauthRedirect</callbackUrl>
        <certificate>-----BEGIN CERTIFICATE-----
MIIC
-----END CERTIFICATE-----</certificate>
        <consumerKey>certmint0123456789abcdefABCDEF</consumerKey>  <!-- create only -->
        <isAdminApproved>true</isAdminApproved>
        <scopes>Api</scopes>
        <scopes>RefreshToken</scopes>
    </oauthConfig>
    <oauthPolicy>
        <ipRelaxation>ENFORCE</ipRelaxation>
        <refreshTokenPolicy>infinite</refreshTokenPolicy>
    </oauthPolicy>
    <permissionSetName>CertMint_Integration</permissionSetName>
    <profileName>System Administrator</profileName>
</ConnectedApp>"#;
    let Component::ConnectedApp(app) =
        Component::from_xml(MetadataType::ConnectedApp, ca.as_bytes(), &strict(62)).unwrap()
    else {
        panic!("not a connected app")
    };
    let oc = app.oauth_config.unwrap();
    assert_eq!(oc.scopes, [OauthScope::Api, OauthScope::RefreshToken]);
    assert_eq!(
        oc.consumer_key.as_deref(),
        Some("certmint0123456789abcdefABCDEF")
    );
    assert!(oc.certificate.unwrap().contains("\nMIIC\n"));
    assert_eq!(app.profile_name, ["System Administrator"]);

    let policies = r#"<ExtlClntAppOauthConfigurablePolicies xmlns="http://soap.sforce.com/2006/04/metadata">
    <commaSeparatedProfile>System Administrator</commaSeparatedProfile>
    <externalClientApplication>certmint</externalClientApplication>
    <ipRelaxationPolicyType>Enforce</ipRelaxationPolicyType>
    <label>certmintOAuthSettings_defaultPolicy</label>
    <permittedUsersPolicyType>AdminApprovedPreAuthorized</permittedUsersPolicyType>
    <refreshTokenPolicyType>Infinite</refreshTokenPolicyType>
</ExtlClntAppOauthConfigurablePolicies>"#;
    let Component::ExtlClntAppOauthConfigurablePolicies(p) = Component::from_xml(
        MetadataType::ExtlClntAppOauthConfigurablePolicies,
        policies.as_bytes(),
        &strict(62),
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(p.comma_separated_profile, ["System Administrator"]);
    let scopes = r#"<ExtlClntAppOauthSettings xmlns="http://soap.sforce.com/2006/04/metadata">
    <commaSeparatedOauthScopes>Api, RefreshToken</commaSeparatedOauthScopes>
    <externalClientApplication>certmint</externalClientApplication>
    <label>certmint OAuth Settings</label>
</ExtlClntAppOauthSettings>"#;
    let c = Component::from_xml(
        MetadataType::ExtlClntAppOauthSettings,
        scopes.as_bytes(),
        &strict(62),
    )
    .unwrap();
    assert!(
        matches!(c, Component::ExtlClntAppOauthSettings(s) if s.comma_separated_oauth_scopes == [OauthScope::Api, OauthScope::RefreshToken])
    );
}

fn problem(kind: MetadataType, xml: &str, opts: &ReadOptions) -> Problem {
    Component::from_xml(kind, xml.as_bytes(), opts).expect_err(xml)
}

#[test]
fn each_rule_refuses_with_its_position() {
    let ns = NAMESPACE;
    let head = format!("<ConnectedApp xmlns=\"{ns}\">\n");
    // unknown element
    let p = problem(
        MetadataType::ConnectedApp,
        &format!("{head}<contactEmail>a</contactEmail>\n<bogus/>\n<label>x</label></ConnectedApp>"),
        &strict(62),
    );
    assert_eq!(
        p.message,
        format!("Element {{{ns}}}bogus invalid at this location in type ConnectedApp")
    );
    assert_eq!((p.line, p.column), (Some(3), Some(1)));
    // out of order: an error, or dropped
    let swapped = format!("{head}<label>x</label>\n<contactEmail>a</contactEmail></ConnectedApp>");
    let p = problem(MetadataType::ConnectedApp, &swapped, &strict(62));
    assert!(
        p.message.contains("}contactEmail invalid at this location"),
        "{p}"
    );
    let drop = ReadOptions {
        api_version: Some(62),
        out_of_order: OutOfOrder::Drop,
    };
    let p = problem(MetadataType::ConnectedApp, &swapped, &drop);
    assert_eq!(p.message, "Required field is missing: contactEmail");
    let dropped_desc = format!(
        "{head}<contactEmail>a</contactEmail><label>x</label><description>late</description></ConnectedApp>"
    );
    let c =
        Component::from_xml(MetadataType::ConnectedApp, dropped_desc.as_bytes(), &drop).unwrap();
    assert!(matches!(c, Component::ConnectedApp(a) if a.description.is_none()));
    // a required element missing, nested
    let p = problem(
        MetadataType::ConnectedApp,
        &format!(
            "{head}<contactEmail>a</contactEmail><label>x</label><oauthConfig><scopes>Api</scopes></oauthConfig></ConnectedApp>"
        ),
        &strict(62),
    );
    assert_eq!(p.message, "Required field is missing: callbackUrl");
    // an enum value
    let p = problem(
        MetadataType::ConnectedApp,
        &format!(
            "{head}<contactEmail>a</contactEmail><label>x</label><oauthConfig><callbackUrl>c</callbackUrl>\n  <scopes>api</scopes></oauthConfig></ConnectedApp>"
        ),
        &strict(62),
    );
    assert_eq!(
        p.message,
        "'api' is not a valid value for the enum 'ConnectedAppOauthAccessScope'"
    );
    assert_eq!((p.line, p.column), (Some(3), Some(3)));
    let p = problem(
        MetadataType::ExtlClntAppOauthSettings,
        &format!(
            "<ExtlClntAppOauthSettings xmlns=\"{ns}\"><commaSeparatedOauthScopes>Api, Nope</commaSeparatedOauthScopes><externalClientApplication>x</externalClientApplication></ExtlClntAppOauthSettings>"
        ),
        &strict(62),
    );
    assert!(p.message.starts_with("'Nope' is not a valid value"), "{p}");
    // API version gating: oauthPolicy is 49.0+, profileName 46.0+
    let with_policy = format!(
        "{head}<contactEmail>a</contactEmail><label>x</label><oauthPolicy><ipRelaxation>ENFORCE</ipRelaxation><refreshTokenPolicy>zero</refreshTokenPolicy></oauthPolicy></ConnectedApp>"
    );
    assert!(
        Component::from_xml(
            MetadataType::ConnectedApp,
            with_policy.as_bytes(),
            &strict(49)
        )
        .is_ok()
    );
    let p = problem(MetadataType::ConnectedApp, &with_policy, &strict(44));
    assert!(
        p.message.contains("}oauthPolicy invalid at this location"),
        "{p}"
    );
    // booleans
    let p = problem(
        MetadataType::ExtlClntAppConfigurablePolicies,
        &format!(
            "<ExtlClntAppConfigurablePolicies xmlns=\"{ns}\"><externalClientApplication>x</externalClientApplication><isEnabled>yes</isEnabled></ExtlClntAppConfigurablePolicies>"
        ),
        &strict(62),
    );
    assert_eq!(p.message, "'yes' is not a valid value for the type boolean");
    // wrong root, no namespace, not XML
    assert!(
        problem(
            MetadataType::PermissionSet,
            &format!("<ConnectedApp xmlns=\"{ns}\"/>"),
            &strict(62)
        )
        .message
        .contains("root element")
    );
    assert!(
        problem(
            MetadataType::PermissionSet,
            "<PermissionSet><label>x</label></PermissionSet>",
            &strict(62)
        )
        .message
        .contains("namespace")
    );
    assert_eq!(
        problem(MetadataType::PermissionSet, "hello", &strict(62)).message,
        "Error parsing file: Content is not allowed in prolog."
    );
}

#[test]
fn names_and_consumer_keys() {
    for ok in ["CertMint_JWT", "a", "A1_b2"] {
        assert!(check_full_name(ok).is_ok(), "{ok}");
    }
    for bad in ["", "1a", "a_", "a__b", "a b", "a-b", "_a"] {
        assert!(check_full_name(bad).is_err(), "{bad}");
    }
    assert!(check_consumer_key("abcd1234").is_ok());
    assert!(check_consumer_key(&"a".repeat(256)).is_ok());
    for bad in ["abc1234", "abcd-1234", "abcd 1234", &"a".repeat(257)] {
        assert!(check_consumer_key(bad).is_err(), "{bad}");
    }
}

#[test]
fn packages_zip_and_read_back() {
    let mut p = DeployPackage::new(62);
    for c in every_component() {
        let name = match c.kind() {
            MetadataType::ExtlClntAppGlobalOauthSettings => "certmintGlblOAuth",
            MetadataType::PermissionSet => "CertMint_Integration",
            _ => "certmint",
        };
        p.add(name, &c).unwrap();
    }
    assert!(p.add("certmint", &every_component()[0]).is_err());
    assert!(p.add("bad name", &every_component()[0]).is_err());
    let manifest = p.package().to_xml().unwrap();
    assert!(manifest.contains("<types>\n        <members>certmint</members>\n        <name>ConnectedApp</name>\n    </types>"), "{manifest}");
    assert!(
        manifest
            .trim_end()
            .ends_with("<version>62.0</version>\n</Package>"),
        "{manifest}"
    );
    let back = Package::from_xml(manifest.as_bytes()).unwrap();
    assert_eq!(&back, p.package());
    assert_eq!(back.api_major(), Some(62));
    let names: Vec<&str> = back.types.iter().map(|t| t.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);

    for folder in ["", "zip"] {
        let zip = p.to_zip_under(folder).unwrap();
        assert_eq!(zip, p.to_zip_under(folder).unwrap(), "deterministic");
        let z = DeployZip::read(&zip, &ZipLimits::default()).unwrap();
        assert_eq!(z.root, if folder.is_empty() { "" } else { "zip/" });
        assert_eq!(Package::from_xml(&z.package_xml).unwrap(), back);
        for c in every_component() {
            let all = z.all_of(c.kind());
            assert_eq!(all.len(), 1, "{}", c.kind());
            let read = Component::from_xml(c.kind(), &all[0].1.bytes, &strict(62)).unwrap();
            assert_eq!(read, c);
        }
    }
}

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut w = ::zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in files {
        w.start_file(*name, ::zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn zips_from_other_tools_and_hostile_zips() {
    // source-format names (-meta.xml) under one folder
    let z = zip_of(&[
        ("unpackaged/package.xml", b"<Package/>"),
        ("unpackaged/connectedApps/A.connectedApp-meta.xml", b"x"),
        ("unpackaged/permissionsets/P.permissionset", b"y"),
    ]);
    let d = DeployZip::read(&z, &ZipLimits::default()).unwrap();
    assert_eq!(d.root, "unpackaged/");
    assert_eq!(d.find(MetadataType::ConnectedApp, "A").unwrap().bytes, b"x");
    assert_eq!(
        d.find(MetadataType::PermissionSet, "P").unwrap().bytes,
        b"y"
    );
    assert!(d.find(MetadataType::PermissionSet, "Q").is_none());
    // no manifest; two candidate roots
    assert_eq!(
        DeployZip::read(&zip_of(&[("a/b/package.xml", b"")]), &ZipLimits::default())
            .unwrap_err()
            .message,
        "No package.xml found"
    );
    assert!(
        DeployZip::read(
            &zip_of(&[("a/package.xml", b""), ("b/package.xml", b"")]),
            &ZipLimits::default()
        )
        .is_err()
    );
    // not a zip, traversal, too many files, too large
    assert!(DeployZip::read(b"PK\x03\x04junk", &ZipLimits::default()).is_err());
    assert!(
        DeployZip::read(
            &zip_of(&[("package.xml", b""), ("../x", b"")]),
            &ZipLimits::default()
        )
        .is_err()
    );
    let small = ZipLimits {
        max_files: 2,
        max_file_bytes: 10,
        max_total_bytes: 15,
    };
    assert!(
        DeployZip::read(
            &zip_of(&[("package.xml", b""), ("a", b""), ("b", b"")]),
            &small
        )
        .is_err()
    );
    assert!(DeployZip::read(&zip_of(&[("package.xml", &[b' '; 11])]), &small).is_err());
    assert!(
        DeployZip::read(
            &zip_of(&[("package.xml", &[b' '; 8]), ("a", &[b' '; 8])]),
            &small
        )
        .is_err()
    );
    // a deflate bomb: 10 MiB of zeros in a few KiB is refused while expanding
    let bomb = {
        use std::io::Write;
        let mut w = ::zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let o = ::zip::write::SimpleFileOptions::default()
            .compression_method(::zip::CompressionMethod::Deflated);
        w.start_file("package.xml", o).unwrap();
        w.write_all(&vec![0u8; 10 << 20]).unwrap();
        w.finish().unwrap().into_inner()
    };
    assert!(bomb.len() < 64 * 1024);
    assert!(DeployZip::read(&bomb, &ZipLimits::default()).is_err());
}

#[test]
fn deploy_results_decode_in_every_shape() {
    // numbers and booleans as strings, a single failure as an object
    let doc = r#"{"id":"0Af000000000001","deployResult":{"id":"0Af000000000001","checkOnly":"false","done":"true",
        "numberComponentErrors":"1","numberComponentsDeployed":"0","numberComponentsTotal":"1","status":"Failed","success":false,
        "details":{"componentFailures":{"changed":"false","columnNumber":"3","componentType":"ConnectedApp","created":false,"deleted":false,
        "fileName":"connectedApps/A.connectedApp","fullName":"A","lineNumber":7,"problem":"p","problemType":"Error","success":false},
        "runTestResults":{"numFailures":"0"}}},"deployOptions":{"checkOnly":"false","rollbackOnError":true,"testLevel":"NoTestRun"}}"#;
    let r: DeployRequestResponse = serde_json::from_str(doc).unwrap();
    let d = &r.deploy_result;
    assert!(d.done && !d.success && d.status == DeployStatus::Failed && d.status.is_done());
    assert_eq!(d.number_component_errors, 1);
    let f = &d.details.as_ref().unwrap().component_failures;
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].line_number, f[0].column_number), (Some(7), Some(3)));
    assert_eq!(f[0].problem_type, Some(ProblemType::Error));
    assert!(d.details.as_ref().unwrap().run_test_result.is_some());
    assert_eq!(
        r.deploy_options.unwrap().test_level,
        Some(TestLevel::NoTestRun)
    );
    // and what the emulator writes reads back the same
    let json = serde_json::to_string(&r.deploy_result).unwrap();
    assert!(json.contains(r#""componentFailures":[{"#), "{json}");
    assert_eq!(
        serde_json::from_str::<DeployResult>(&json).unwrap(),
        r.deploy_result
    );
    assert!(!DeployStatus::InProgress.is_done());
    // options: absent members are not sent
    let o = DeployOptions {
        check_only: Some(true),
        ..DeployOptions::default()
    };
    assert_eq!(
        serde_json::to_string(&DeployRequestBody { deploy_options: o }).unwrap(),
        r#"{"deployOptions":{"checkOnly":true}}"#
    );
}

#[test]
fn the_multipart_body_has_the_json_and_the_zip() {
    let (ct, body) = multipart_body(&DeployOptions::default(), b"PKzip", "BOUNDARY123");
    assert_eq!(ct, "multipart/form-data; boundary=BOUNDARY123");
    let text = String::from_utf8_lossy(&body);
    assert!(text.starts_with("--BOUNDARY123\r\nContent-Disposition: form-data; name=\"json\"\r\nContent-Type: application/json\r\n\r\n{\"deployOptions\":{}}\r\n"), "{text}");
    assert!(text.contains("name=\"file\"; filename=\"deploy.zip\"\r\nContent-Type: application/zip\r\n\r\nPKzip\r\n--BOUNDARY123--\r\n"), "{text}");
    assert_eq!(
        deploy_request_path(62),
        "/services/data/v62.0/metadata/deployRequest"
    );
}

fn opts(v: u32, out_of_order: OutOfOrder) -> ReadOptions {
    ReadOptions {
        api_version: Some(v),
        out_of_order,
    }
}

fn file(kind: MetadataType, body: &str) -> String {
    let root = kind.name();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} xmlns=\"{NAMESPACE}\">\n{body}\n</{root}>\n"
    )
}

fn read(kind: MetadataType, xml: &str, opts: &ReadOptions) -> Component {
    Component::from_xml(kind, xml.as_bytes(), opts).unwrap_or_else(|p| panic!("{p}\n{xml}"))
}
