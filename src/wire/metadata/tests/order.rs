//! Elements out of the schema's order under each [`OutOfOrder`] mode.

use super::*;

/// A connected app out of order at both levels: `contactEmail` after `label`, `scopes`
/// split around `isAdminApproved`, `permissionSetName` split around `profileName`.
fn swapped() -> String {
    file(
        MetadataType::ConnectedApp,
        "<label>x</label>
<contactEmail>a@example.com</contactEmail>
<oauthConfig>
    <callbackUrl>c</callbackUrl>
    <scopes>Api</scopes>
    <isAdminApproved>true</isAdminApproved>
    <scopes>Web</scopes>
</oauthConfig>
<permissionSetName>A</permissionSetName>
<profileName>P</profileName>
<permissionSetName>B</permissionSetName>",
    )
}

/// What `swapped()` holds, in the schema's order.
fn in_order() -> Component {
    Component::ConnectedApp(ConnectedApp {
        contact_email: "a@example.com".into(),
        label: "x".into(),
        oauth_config: Some(ConnectedAppOauthConfig {
            callback_url: "c".into(),
            is_admin_approved: Some(true),
            scopes: vec![OauthScope::Api, OauthScope::Web],
            ..Default::default()
        }),
        permission_set_name: vec!["A".into(), "B".into()],
        profile_name: vec!["P".into()],
        ..Default::default()
    })
}

#[test]
fn error_refuses_where_the_order_breaks() {
    assert_eq!(OutOfOrder::default(), OutOfOrder::Error);
    let swapped = swapped();
    let p = problem(
        MetadataType::ConnectedApp,
        &swapped,
        &opts(62, OutOfOrder::Error),
    );
    assert!(
        p.message.contains("}contactEmail invalid at this location"),
        "{p}"
    );
    assert_eq!(p.line, Some(4));
    let nested = swapped.replace(
        "<label>x</label>\n<contactEmail>a@example.com</contactEmail>",
        "<contactEmail>a@example.com</contactEmail>\n<label>x</label>",
    );
    let p = problem(
        MetadataType::ConnectedApp,
        &nested,
        &opts(62, OutOfOrder::Error),
    );
    assert!(
        p.message
            .ends_with("}isAdminApproved invalid at this location in type ConnectedAppOauthConfig"),
        "{p}"
    );
}

#[test]
fn drop_drops_what_is_behind_the_furthest_element_reached() {
    let swapped = swapped();
    // contactEmail is dropped, and it is required
    let p = problem(
        MetadataType::ConnectedApp,
        &swapped,
        &opts(62, OutOfOrder::Drop),
    );
    assert_eq!(p.message, "Required field is missing: contactEmail");
    let droppable = swapped.replace(
        "<label>x</label>\n<contactEmail>a@example.com</contactEmail>",
        "<contactEmail>a@example.com</contactEmail>\n<label>x</label>",
    );
    let Component::ConnectedApp(d) = read(
        MetadataType::ConnectedApp,
        &droppable,
        &opts(62, OutOfOrder::Drop),
    ) else {
        panic!()
    };
    assert_eq!(d.permission_set_name, ["A"]);
    assert_eq!(d.profile_name, ["P"]);
    let oc = d.oauth_config.unwrap();
    assert_eq!(oc.scopes, [OauthScope::Api, OauthScope::Web]);
    assert_eq!(oc.is_admin_approved, None);
}

#[test]
fn accept_reads_every_element_and_joins_split_lists_in_file_order() {
    let swapped = swapped();
    let Component::ConnectedApp(a) = read(
        MetadataType::ConnectedApp,
        &swapped,
        &opts(62, OutOfOrder::Accept),
    ) else {
        panic!()
    };
    assert_eq!(a.contact_email, "a@example.com");
    assert_eq!(a.label, "x");
    assert_eq!(a.permission_set_name, ["A", "B"]);
    assert_eq!(a.profile_name, ["P"]);
    let oc = a.oauth_config.unwrap();
    assert_eq!(oc.callback_url, "c");
    assert_eq!(oc.is_admin_approved, Some(true));
    assert_eq!(oc.scopes, [OauthScope::Api, OauthScope::Web]);
    // ... which is what the schema's order reads
    let in_order = in_order();
    assert_eq!(
        read(
            MetadataType::ConnectedApp,
            &in_order.to_xml().unwrap(),
            &strict(62)
        ),
        in_order
    );
    assert_eq!(
        read(
            MetadataType::ConnectedApp,
            &swapped,
            &opts(62, OutOfOrder::Accept)
        ),
        in_order
    );
    // Accept still refuses a second single element, unknown elements, newer elements
    for (bad, what) in [
        (
            swapped.replace("<profileName>P</profileName>", "<label>y</label>"),
            "}label invalid",
        ),
        (
            swapped.replace("<profileName>P</profileName>", "<bogus/>"),
            "}bogus invalid",
        ),
        (
            swapped.replace(
                "<scopes>Web</scopes>",
                "<isPkceRequired>true</isPkceRequired>",
            ),
            "}isPkceRequired invalid",
        ),
    ] {
        let p = problem(
            MetadataType::ConnectedApp,
            &bad,
            &opts(58, OutOfOrder::Accept),
        );
        assert!(p.message.contains(what), "{p}");
    }
    // a comment between moved elements does not disturb the reading
    let commented = swapped.replace(
        "<profileName>P</profileName>",
        "<!-- p --><profileName>P</profileName>",
    );
    assert_eq!(
        read(
            MetadataType::ConnectedApp,
            &commented,
            &opts(62, OutOfOrder::Accept)
        ),
        in_order
    );
}

/// Salesforce's own samples (the 67.0 reference's) are out of the WSDL's order: refused by
/// `Error`, read by `Accept`.
#[test]
fn salesforces_samples_read_under_accept_only() {
    let sample = file(
        MetadataType::ExtlClntAppOauthSettings,
        "    <externalClientApplication>myeca</externalClientApplication>
    <label>My Oauth Settings</label>
    <trustedIpRanges>
        <startIpAddress>10.55.2.0</startIpAddress>
        <endIpAddress>10.55.2.255</endIpAddress>
        <description>Building 6</description>
    </trustedIpRanges>
    <trustedIpRanges>
        <startIpAddress>10.55.12.0</startIpAddress>
        <endIpAddress>10.55.12.255</endIpAddress>
    </trustedIpRanges>
    <customAttributes>
        <key>userattribute</key>
        <formula>User.Country</formula>
    </customAttributes>
    <commaSeparatedOauthScopes>Basic, Web</commaSeparatedOauthScopes>",
    );
    assert!(
        Component::from_xml(
            MetadataType::ExtlClntAppOauthSettings,
            sample.as_bytes(),
            &opts(67, OutOfOrder::Error)
        )
        .is_err()
    );
    let Component::ExtlClntAppOauthSettings(s) = read(
        MetadataType::ExtlClntAppOauthSettings,
        &sample,
        &opts(67, OutOfOrder::Accept),
    ) else {
        panic!()
    };
    assert_eq!(
        s.comma_separated_oauth_scopes,
        [OauthScope::Basic, OauthScope::Web]
    );
    assert_eq!(s.label.as_deref(), Some("My Oauth Settings"));
    let plugins = file(
        MetadataType::ExtlClntAppConfigurablePolicies,
        "    <externalClientApplication>myeca</externalClientApplication>
    <isEnabled>true</isEnabled>
    <isCanvasPluginEnabled>true</isCanvasPluginEnabled>
    <isMobilePluginEnabled>true</isMobilePluginEnabled>
    <label>myecapolicy</label>
    <startPage>OAuth</startPage>",
    );
    let p = problem(
        MetadataType::ExtlClntAppConfigurablePolicies,
        &plugins,
        &opts(67, OutOfOrder::Error),
    );
    assert!(p.message.contains("}isCanvasPluginEnabled invalid"), "{p}");
    let Component::ExtlClntAppConfigurablePolicies(pl) = read(
        MetadataType::ExtlClntAppConfigurablePolicies,
        &plugins,
        &opts(67, OutOfOrder::Accept),
    ) else {
        panic!()
    };
    assert!(pl.is_enabled);
}
