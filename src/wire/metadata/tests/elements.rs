//! The element tables against the reference: every documented element of ConnectedApp
//! and the External Client App types reads at 67.0, each dated element is refused below its
//! version, a real-world bundle (sfdx-hardis's) reads, and the ECA consumer-key rule.

use super::*;

/// Every element the 67.0 reference documents for ConnectedApp and its nested types, in
/// schema order, reads at 67.0; the modelled ones keep their values.
#[test]
fn a_connected_app_with_every_documented_element_reads_at_67() {
    let xml = file(
        MetadataType::ConnectedApp,
        r#"<attributes><formula>$User.Email</formula><key>email</key></attributes>
<canvasConfig>
    <accessMethod>Post</accessMethod>
    <canvasUrl>https://canvas.example.com</canvasUrl>
    <lifecycleClass>MyLifecycle</lifecycleClass>
    <locations>Visualforce</locations>
    <locations>Aura</locations>
    <options>HideHeader</options>
    <samlInitiationMethod>None</samlInitiationMethod>
</canvasConfig>
<contactEmail>admin@example.com</contactEmail>
<contactPhone>555</contactPhone>
<description>d</description>
<iconUrl>https://example.com/i.png</iconUrl>
<infoUrl>https://example.com</infoUrl>
<ipRanges><description>office</description><end>10.0.0.255</end><start>10.0.0.0</start></ipRanges>
<ipRanges><end>10.0.1.255</end><start>10.0.1.0</start></ipRanges>
<label>Everything</label>
<logoUrl>https://example.com/l.png</logoUrl>
<mobileStartUrl>https://example.com/m</mobileStartUrl>
<oauthConfig>
    <assetTokenConfig>
        <assetAudiences>https://aud.example.com</assetAudiences>
        <assetIncludeAttributes>true</assetIncludeAttributes>
        <assetIncludeCustomPerms>false</assetIncludeCustomPerms>
        <assetSigningCertId>0P1000000000001</assetSigningCertId>
        <assetValidityPeriod>120</assetValidityPeriod>
    </assetTokenConfig>
    <callbackUrl>http://localhost:1717/OauthRedirect</callbackUrl>
    <certificate>MIIC</certificate>
    <consumerKey>certmint0123456789</consumerKey>
    <consumerSecret>secret0123456789</consumerSecret>
    <idTokenConfig>
        <idTokenAudience>aud</idTokenAudience>
        <idTokenIncludeAttributes>true</idTokenIncludeAttributes>
        <idTokenIncludeCustomPerms>true</idTokenIncludeCustomPerms>
        <idTokenIncludeStandardClaims>true</idTokenIncludeStandardClaims>
        <idTokenValidity>2</idTokenValidity>
    </idTokenConfig>
    <isAdminApproved>true</isAdminApproved>
    <isClientCredentialEnabled>false</isClientCredentialEnabled>
    <isCodeCredentialEnabled>false</isCodeCredentialEnabled>
    <isCodeCredentialPostOnly>false</isCodeCredentialPostOnly>
    <isConsumerSecretOptional>true</isConsumerSecretOptional>
    <isIntrospectAllTokens>false</isIntrospectAllTokens>
    <isNamedUserJwtEnabled>false</isNamedUserJwtEnabled>
    <isPkceRequired>false</isPkceRequired>
    <isRefreshTokenRotationEnabled>false</isRefreshTokenRotationEnabled>
    <isSecretRequiredForRefreshToken>true</isSecretRequiredForRefreshToken>
    <isSecretRequiredForTokenExchange>false</isSecretRequiredForTokenExchange>
    <isTokenExchangeEnabled>false</isTokenExchangeEnabled>
    <oauthClientCredentialUser>u@example.com</oauthClientCredentialUser>
    <scopes>Api</scopes>
    <scopes>RefreshToken</scopes>
    <singleLogoutUrl>https://example.com/logout</singleLogoutUrl>
</oauthConfig>
<oauthPolicy>
    <ipRelaxation>ENFORCE</ipRelaxation>
    <refreshTokenPolicy>specific_lifetime:1:DAYS</refreshTokenPolicy>
    <singleLogoutUrl>https://example.com/logout</singleLogoutUrl>
</oauthPolicy>
<permissionSetName>CertMint_Integration</permissionSetName>
<plugin>MyPlugin</plugin>
<pluginExecutionUser>u@example.com</pluginExecutionUser>
<profileName>System Administrator</profileName>
<samlConfig>
    <acsUrl>https://sp.example.com/acs</acsUrl>
    <certificate>MIIC</certificate>
    <encryptionCertificate>MyCert</encryptionCertificate>
    <encryptionType>AES_256</encryptionType>
    <entityUrl>https://sp.example.com</entityUrl>
    <issuer>https://idp.example.com</issuer>
    <samlIdpSLOBindingEnum>PostBinding</samlIdpSLOBindingEnum>
    <samlNameIdFormat>Unspecified</samlNameIdFormat>
    <samlSigningAlgoType>SHA256</samlSigningAlgoType>
    <samlSloUrl>https://sp.example.com/slo</samlSloUrl>
    <samlSubjectCustomAttr>x</samlSubjectCustomAttr>
    <samlSubjectType>Username</samlSubjectType>
</samlConfig>
<sessionPolicy>
    <policyAction>Block</policyAction>
    <sessionLevel>STANDARD</sessionLevel>
    <sessionTimeout>15</sessionTimeout>
</sessionPolicy>
<startUrl>https://example.com/start</startUrl>"#,
    );
    let Component::ConnectedApp(app) = read(
        MetadataType::ConnectedApp,
        &xml,
        &opts(67, OutOfOrder::Error),
    ) else {
        panic!("not a connected app")
    };
    let oc = app.oauth_config.unwrap();
    assert_eq!(oc.scopes, [OauthScope::Api, OauthScope::RefreshToken]);
    assert_eq!(oc.is_admin_approved, Some(true));
    assert_eq!(oc.consumer_secret.as_deref(), Some("secret0123456789"));
    assert_eq!(app.permission_set_name, ["CertMint_Integration"]);
    assert_eq!(app.start_url.as_deref(), Some("https://example.com/start"));
    assert_eq!(app.session_policy.unwrap().session_timeout, Some(15));
    // a nested type's rules apply: a required element missing, an unknown one
    let missing = xml.replace("<end>10.0.1.255</end>", "");
    assert_eq!(
        problem(
            MetadataType::ConnectedApp,
            &missing,
            &opts(67, OutOfOrder::Error)
        )
        .message,
        "Required field is missing: end"
    );
    let unknown = xml.replace("<acsUrl>", "<bogus/><acsUrl>");
    assert!(
        problem(
            MetadataType::ConnectedApp,
            &unknown,
            &opts(67, OutOfOrder::Accept)
        )
        .message
        .ends_with("}bogus invalid at this location in type ConnectedAppSamlConfig")
    );
}

/// Every element the 67.0 reference documents for the five External Client App types, in
/// schema order, reads at 67.0; the modelled ones keep their values.
#[test]
fn the_eca_types_with_every_documented_element_read_at_67() {
    let at_67 = opts(67, OutOfOrder::Error);
    let header = file(
        MetadataType::ExternalClientApplication,
        "<contactEmail>a@example.com</contactEmail>
<contactPhone>555</contactPhone>
<description>d</description>
<distributionState>Local</distributionState>
<iconUrl>https://icon.example.com</iconUrl>
<infoUrl>https://info.example.com</infoUrl>
<isProtected>false</isProtected>
<label>myeca</label>
<logoUrl>https://logo.example.com</logoUrl>
<managedType>Unmanaged</managedType>
<orgScopedExternalApp>00D000000000001:myeca</orgScopedExternalApp>",
    );
    let Component::ExternalClientApplication(h) =
        read(MetadataType::ExternalClientApplication, &header, &at_67)
    else {
        panic!()
    };
    assert_eq!(h.label, "myeca");
    assert_eq!(h.distribution_state, Some(DistributionState::Local));

    let global = file(
        MetadataType::ExtlClntAppGlobalOauthSettings,
        "<callbackUrl>https://www.example.com</callbackUrl>
<certificate>MIIC</certificate>
<consumerKey>myecaKey0123456789</consumerKey>
<consumerSecret>secret</consumerSecret>
<externalClientApplication>myeca</externalClientApplication>
<idTokenConfig>
    <idTokenAudience>SalesforceAudience</idTokenAudience>
    <idTokenIncludeAttributes>false</idTokenIncludeAttributes>
    <idTokenIncludeStandardClaims>true</idTokenIncludeStandardClaims>
    <idTokenValidityInMinutes>2</idTokenValidityInMinutes>
</idTokenConfig>
<isClientCredentialsFlowEnabled>false</isClientCredentialsFlowEnabled>
<isCodeCredFlowEnabled>true</isCodeCredFlowEnabled>
<isCodeCredPostOnly>true</isCodeCredPostOnly>
<isConsumerSecretOptional>false</isConsumerSecretOptional>
<isDeviceFlowEnabled>false</isDeviceFlowEnabled>
<isIntrospectAllTokens>false</isIntrospectAllTokens>
<isNamedUserJwtEnabled>false</isNamedUserJwtEnabled>
<isPkceRequired>true</isPkceRequired>
<isRefreshTokenRotationEnabled>false</isRefreshTokenRotationEnabled>
<isSecretRequiredForRefreshToken>true</isSecretRequiredForRefreshToken>
<isSecretRequiredForTokenExchange>true</isSecretRequiredForTokenExchange>
<isTokenExchangeEnabled>false</isTokenExchangeEnabled>
<label>myecaglobalset</label>
<shouldRotateConsumerKey>false</shouldRotateConsumerKey>
<shouldRotateConsumerSecret>false</shouldRotateConsumerSecret>",
    );
    let Component::ExtlClntAppGlobalOauthSettings(g) = read(
        MetadataType::ExtlClntAppGlobalOauthSettings,
        &global,
        &at_67,
    ) else {
        panic!()
    };
    assert_eq!(g.certificate.as_deref(), Some("MIIC"));
    assert_eq!(g.consumer_key.as_deref(), Some("myecaKey0123456789"));
    assert_eq!(g.is_pkce_required, Some(true));

    let settings = file(
        MetadataType::ExtlClntAppOauthSettings,
        "<areAttributesIncludedInAssetToken>false</areAttributesIncludedInAssetToken>
<areCustomPermsIncludedInAssetToken>false</areCustomPermsIncludedInAssetToken>
<assetTokenAudiences>https://aud.example.com</assetTokenAudiences>
<assetTokenSigningCertificate>0P1000000000001</assetTokenSigningCertificate>
<assetTokenValidity>120</assetTokenValidity>
<clientAssertionCertificate>MyAttestationCert</clientAssertionCertificate>
<commaSeparatedOauthScopes>Api, Web, RefreshToken</commaSeparatedOauthScopes>
<customAttributes><formula>User.Country</formula><key>country</key></customAttributes>
<customAttributes><formula>Organization.Name</formula><key>org</key></customAttributes>
<externalClientApplication>myeca</externalClientApplication>
<isFirstPartyAppEnabled>false</isFirstPartyAppEnabled>
<label>My Oauth Settings</label>
<oauthLink>00D000000000001:888000000000001</oauthLink>
<singleLogoutUrl>https://www.example.com/logout</singleLogoutUrl>
<trustedIpRanges><description>Building 6</description><endIpAddress>10.55.2.255</endIpAddress><startIpAddress>10.55.2.0</startIpAddress></trustedIpRanges>
<trustedIpRanges><endIpAddress>10.55.12.255</endIpAddress><startIpAddress>10.55.12.0</startIpAddress></trustedIpRanges>",
    );
    let Component::ExtlClntAppOauthSettings(o) =
        read(MetadataType::ExtlClntAppOauthSettings, &settings, &at_67)
    else {
        panic!()
    };
    assert_eq!(
        o.comma_separated_oauth_scopes,
        [OauthScope::Api, OauthScope::Web, OauthScope::RefreshToken]
    );

    let policies = file(
        MetadataType::ExtlClntAppOauthConfigurablePolicies,
        "<apexHandler>MyEcaOauthApexHandler</apexHandler>
<clientCredentialsFlowUser>integration@example.com</clientCredentialsFlowUser>
<commaSeparatedCustomScopes>CustomScopeExample, Other</commaSeparatedCustomScopes>
<commaSeparatedPermissionSet>PermSetExample</commaSeparatedPermissionSet>
<commaSeparatedProfile>System Administrator</commaSeparatedProfile>
<customAttributes><formula>Organization.Country</formula><key>country</key></customAttributes>
<executeHandlerAs>admin@example.org</executeHandlerAs>
<externalClientApplication>myeca</externalClientApplication>
<guestJwtSessionTimeoutType>Custom</guestJwtSessionTimeoutType>
<guestJwtTimeout>30</guestJwtTimeout>
<ipRelaxationPolicyType>Enforce</ipRelaxationPolicyType>
<isClientCredentialsFlowEnabled>true</isClientCredentialsFlowEnabled>
<isGuestCodeCredFlowEnabled>false</isGuestCodeCredFlowEnabled>
<isNamedUserJwtEnabled>false</isNamedUserJwtEnabled>
<isTokenExchangeFlowEnabled>false</isTokenExchangeFlowEnabled>
<label>myecapolicy</label>
<namedUserJwtSessionTimeoutType>UserSession</namedUserJwtSessionTimeoutType>
<namedUserJwtTimeout>10</namedUserJwtTimeout>
<permittedUsersPolicyType>AdminApprovedPreAuthorized</permittedUsersPolicyType>
<policyAction>RaiseSessionLevel</policyAction>
<refreshTokenPolicyType>SpecificLifetime</refreshTokenPolicyType>
<refreshTokenValidityPeriod>1</refreshTokenValidityPeriod>
<refreshTokenValidityUnit>Days</refreshTokenValidityUnit>
<requiredSessionLevel>HIGH_ASSURANCE</requiredSessionLevel>
<sessionTimeoutInMinutes>1</sessionTimeoutInMinutes>
<singleLogoutUrl>https://www.example.com</singleLogoutUrl>
<startUrl>https://www.example.com</startUrl>",
    );
    let Component::ExtlClntAppOauthConfigurablePolicies(p) = read(
        MetadataType::ExtlClntAppOauthConfigurablePolicies,
        &policies,
        &at_67,
    ) else {
        panic!()
    };
    assert_eq!(p.comma_separated_permission_set, ["PermSetExample"]);
    assert_eq!(p.required_session_level, Some(SessionLevel::HighAssurance));
    assert_eq!(p.refresh_token_validity_period, Some(1));
    let bad = policies.replace(">Custom</guestJwt", ">Forever</guestJwt");
    assert_eq!(
        problem(
            MetadataType::ExtlClntAppOauthConfigurablePolicies,
            &bad,
            &at_67
        )
        .message,
        "'Forever' is not a valid value for the enum 'JWTSessionTimeoutType'"
    );

    let plugins = file(
        MetadataType::ExtlClntAppConfigurablePolicies,
        "<externalClientApplication>myeca</externalClientApplication>
<isCanvasPluginEnabled>true</isCanvasPluginEnabled>
<isEnabled>true</isEnabled>
<isMobilePluginEnabled>true</isMobilePluginEnabled>
<isNotificationPluginEnabled>true</isNotificationPluginEnabled>
<isOauthPluginEnabled>false</isOauthPluginEnabled>
<isPushPluginEnabled>true</isPushPluginEnabled>
<isSamlPluginEnabled>true</isSamlPluginEnabled>
<label>myecapolicy</label>
<startPage>OAuth</startPage>
<startUrl>https://example.org</startUrl>",
    );
    let Component::ExtlClntAppConfigurablePolicies(pl) = read(
        MetadataType::ExtlClntAppConfigurablePolicies,
        &plugins,
        &at_67,
    ) else {
        panic!()
    };
    assert!(pl.is_enabled);
    assert_eq!(pl.is_oauth_plugin_enabled, Some(false));
}

/// The element at `path` (names from the root) in the type's table.
fn field_at(kind: MetadataType, path: &[&str]) -> Option<xml::Field> {
    let mut fields = kind.fields();
    let mut found = None;
    for name in path {
        let f = *fields.iter().find(|f| f.name == *name)?;
        if let xml::Kind::Nested(_, inner) = f.kind {
            fields = inner;
        }
        found = Some(f);
    }
    found
}

/// The elements the audit found missing, and the ECA versions the reference gives, are in
/// the tables with those versions (0: none given).
#[test]
fn the_audits_elements_are_known_with_their_versions() {
    // type, element path, first API version (0: none given)
    let expected = "
ExternalClientApplication            managedType                               0
ExtlClntAppGlobalOauthSettings       certificate                               60
ExtlClntAppGlobalOauthSettings       isClientCredentialsFlowEnabled            60
ExtlClntAppGlobalOauthSettings       isCodeCredFlowEnabled                     61
ExtlClntAppGlobalOauthSettings       isCodeCredPostOnly                        61
ExtlClntAppGlobalOauthSettings       isDeviceFlowEnabled                       60
ExtlClntAppGlobalOauthSettings       isNamedUserJwtEnabled                     61
ExtlClntAppGlobalOauthSettings       isRefreshTokenRotationEnabled             60
ExtlClntAppGlobalOauthSettings       isSecretRequiredForTokenExchange          60
ExtlClntAppGlobalOauthSettings       isTokenExchangeEnabled                    60
ExtlClntAppGlobalOauthSettings       idTokenConfig/idTokenValidityInMinutes    0
ExtlClntAppOauthConfigurablePolicies apexHandler                               61
ExtlClntAppOauthConfigurablePolicies clientCredentialsFlowUser                 60
ExtlClntAppOauthConfigurablePolicies commaSeparatedCustomScopes                61
ExtlClntAppOauthConfigurablePolicies customAttributes/formula                  0
ExtlClntAppOauthConfigurablePolicies executeHandlerAs                          61
ExtlClntAppOauthConfigurablePolicies guestJwtTimeout                           61
ExtlClntAppOauthConfigurablePolicies guestJwtSessionTimeoutType                65
ExtlClntAppOauthConfigurablePolicies isClientCredentialsFlowEnabled            60
ExtlClntAppOauthConfigurablePolicies isGuestCodeCredFlowEnabled                61
ExtlClntAppOauthConfigurablePolicies isTokenExchangeFlowEnabled                60
ExtlClntAppOauthConfigurablePolicies namedUserJwtSessionTimeoutType            65
ExtlClntAppOauthConfigurablePolicies namedUserJwtTimeout                       61
ExtlClntAppOauthConfigurablePolicies singleLogoutUrl                           0
ExtlClntAppOauthConfigurablePolicies startUrl                                  0
ExtlClntAppOauthSettings             areAttributesIncludedInAssetToken         61
ExtlClntAppOauthSettings             areCustomPermsIncludedInAssetToken        61
ExtlClntAppOauthSettings             assetTokenAudiences                       61
ExtlClntAppOauthSettings             assetTokenSigningCertificate              61
ExtlClntAppOauthSettings             assetTokenValidity                        61
ExtlClntAppOauthSettings             clientAssertionCertificate                0
ExtlClntAppOauthSettings             isFirstPartyAppEnabled                    0
ExtlClntAppOauthSettings             singleLogoutUrl                           0
ExtlClntAppOauthSettings             trustedIpRanges/startIpAddress            0
ExtlClntAppConfigurablePolicies      isCanvasPluginEnabled                     66
ExtlClntAppConfigurablePolicies      isMobilePluginEnabled                     63
ExtlClntAppConfigurablePolicies      isNotificationPluginEnabled               63
ExtlClntAppConfigurablePolicies      isPushPluginEnabled                       63
ExtlClntAppConfigurablePolicies      isSamlPluginEnabled                       63
ExtlClntAppConfigurablePolicies      startPage                                 63
ExtlClntAppConfigurablePolicies      startUrl                                  63
ConnectedApp                         pluginExecutionUser                       46
ConnectedApp                         oauthConfig/assetTokenConfig              49
ConnectedApp                         oauthConfig/idTokenConfig                 43
ConnectedApp                         oauthConfig/isCodeCredentialEnabled       57
ConnectedApp                         oauthConfig/isPkceRequired                59
ConnectedApp                         oauthConfig/isRefreshTokenRotationEnabled 60
ConnectedApp                         samlConfig/samlSigningAlgoType            50
";
    let mut wrong = Vec::new();
    for row in expected.lines().filter(|l| !l.trim().is_empty()) {
        let [kind, path, since] = row.split_whitespace().collect::<Vec<_>>()[..] else {
            panic!("{row}")
        };
        let kind = MetadataType::from_name(kind).unwrap_or_else(|| panic!("{row}"));
        let since: u32 = since.parse().unwrap();
        let path: Vec<&str> = path.split('/').collect();
        match field_at(kind, &path) {
            None => wrong.push(format!("{kind}/{}: missing", path.join("/"))),
            Some(f) if f.since != since => wrong.push(format!(
                "{kind}/{}: since {}, expected {since}",
                path.join("/"),
                f.since
            )),
            Some(_) => {}
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Every table, nested ones included, is in the WSDL's order: alphabetical after
/// `fullName` (and the struct fields follow it: `what_is_written_reads_back_under_the_strict_reader`).
#[test]
fn every_table_is_alphabetical_after_full_name() {
    fn walk(in_type: &str, fields: &[xml::Field], out: &mut Vec<String>) {
        let names: Vec<&str> = fields
            .iter()
            .map(|f| f.name)
            .filter(|n| *n != "fullName")
            .collect();
        for pair in names.windows(2) {
            if pair[0].to_ascii_lowercase() >= pair[1].to_ascii_lowercase() {
                out.push(format!("{in_type}: {} before {}", pair[0], pair[1]));
            }
        }
        for f in fields {
            if let xml::Kind::Nested(t, inner) = f.kind {
                walk(t, inner, out);
            }
        }
    }
    let mut out = Vec::new();
    for kind in MetadataType::ALL {
        walk(kind.name(), kind.fields(), &mut out);
    }
    assert!(out.is_empty(), "{out:#?}");
}

/// A body for `fields` with their elements required at API `version` and the element at
/// `path`, all with valid values.
fn minimal_with(fields: &[xml::Field], path: &[&str], version: u32) -> String {
    let mut out = String::new();
    for f in fields {
        let on_path = path.first() == Some(&f.name);
        if !((f.required && f.since <= version) || on_path) {
            continue;
        }
        let rest = if on_path { &path[1..] } else { &[][..] };
        let value = match f.kind {
            xml::Kind::Text => "x".to_owned(),
            xml::Kind::Bool => "true".to_owned(),
            xml::Kind::Int => "1".to_owned(),
            xml::Kind::Enum(_, values) | xml::Kind::EnumList(_, values) => values[0].to_owned(),
            xml::Kind::Nested(_, inner) => minimal_with(inner, rest, version),
            xml::Kind::Opaque => String::new(),
        };
        out.push_str(&format!("<{0}>{value}</{0}>", f.name));
    }
    out
}

/// Every element with a first API version, in every type and nested type: a file holding
/// it is refused one version below (the element, or a parent as new, is invalid at this
/// location) and read at it.
#[test]
fn each_element_with_a_since_is_refused_below_it_and_read_at_it() {
    fn walk(
        fields: &[xml::Field],
        path: &mut Vec<&'static str>,
        since: u32,
        out: &mut Vec<(Vec<&'static str>, u32)>,
    ) {
        for f in fields {
            path.push(f.name);
            let s = since.max(f.since);
            if f.since > 0 {
                out.push((path.clone(), s));
            }
            if let xml::Kind::Nested(_, inner) = f.kind {
                walk(inner, path, s, out);
            }
            path.pop();
        }
    }
    let mut failures = Vec::new();
    let mut checked = 0;
    for kind in MetadataType::ALL {
        let mut cases = Vec::new();
        walk(kind.fields(), &mut Vec::new(), 0, &mut cases);
        for (path, since) in cases {
            checked += 1;
            let name = format!("{kind}/{} (since {since})", path.join("/"));
            let below = file(*kind, &minimal_with(kind.fields(), &path, since - 1));
            match Component::from_xml(*kind, below.as_bytes(), &strict(since - 1)) {
                Err(p)
                    if path.iter().any(|e| {
                        p.message
                            .contains(&format!("}}{e} invalid at this location"))
                    }) => {}
                other => failures.push(format!("{name}: at {}: {other:?}", since - 1)),
            }
            let at = file(*kind, &minimal_with(kind.fields(), &path, since));
            if let Err(p) = Component::from_xml(*kind, at.as_bytes(), &strict(since)) {
                failures.push(format!("{name}: at {since}: {p}"));
            }
        }
    }
    assert!(checked > 60, "{checked}");
    assert!(failures.is_empty(), "{failures:#?}");
}

/// A key shaped as sfdx-hardis makes them (`crypto.randomBytes(256).toString('base64')
/// .substr(0,119)`): 119 base64 characters, `+` and `/` included.
const HARDIS_KEY: &str = "q0Yk4n2b+7pZ/3mX9wL1vR8sT6uH5jG2fD4aS7dK9lQ1wE3rT5yU7iO9pA2sD4fG6hJ8kL0zX2cV4bN6mQ8wE0rT2yU4iO6pA8sD0fG2hJ4kL6zX8cV0bN2";

/// The files sfdx-hardis's `generateExternalClientAppMetadata` writes (its elements and
/// order, our values), zipped under its `-meta.xml` names, read at `version`.
fn hardis_bundle(version: u32) -> Vec<u8> {
    // Its generator adds the deprecated policies element for API 61 to 63 only.
    let named_user = if (61..=63).contains(&version) {
        "\n    <isNamedUserJwtEnabled>true</isNamedUserJwtEnabled>"
    } else {
        ""
    };
    let header = file(
        MetadataType::ExternalClientApplication,
        "    <contactEmail>ci@example.com</contactEmail>
    <description>External Client App for sfdx-hardis CI/CD authentication</description>
    <distributionState>Local</distributionState>
    <isProtected>false</isProtected>
    <label>hardis_ci</label>",
    );
    let settings = file(
        MetadataType::ExtlClntAppOauthSettings,
        "    <commaSeparatedOauthScopes>Api, Web, RefreshToken</commaSeparatedOauthScopes>
    <externalClientApplication>hardis_ci</externalClientApplication>
    <label>hardis_ci OAuth Settings</label>",
    );
    let global = file(
        MetadataType::ExtlClntAppGlobalOauthSettings,
        &format!(
            "    <callbackUrl>http://localhost:1717/OauthRedirect</callbackUrl>
    <certificate>{CERT}</certificate>
    <consumerKey>{HARDIS_KEY}</consumerKey>
    <externalClientApplication>hardis_ci</externalClientApplication>
    <isClientCredentialsFlowEnabled>false</isClientCredentialsFlowEnabled>
    <isCodeCredFlowEnabled>false</isCodeCredFlowEnabled>
    <isCodeCredPostOnly>false</isCodeCredPostOnly>
    <isConsumerSecretOptional>true</isConsumerSecretOptional>
    <isDeviceFlowEnabled>false</isDeviceFlowEnabled>
    <isIntrospectAllTokens>false</isIntrospectAllTokens>
    <isNamedUserJwtEnabled>false</isNamedUserJwtEnabled>
    <isPkceRequired>false</isPkceRequired>
    <isRefreshTokenRotationEnabled>false</isRefreshTokenRotationEnabled>
    <isSecretRequiredForRefreshToken>false</isSecretRequiredForRefreshToken>
    <isSecretRequiredForTokenExchange>false</isSecretRequiredForTokenExchange>
    <isTokenExchangeEnabled>false</isTokenExchangeEnabled>
    <label>hardis_ci Global OAuth</label>
    <shouldRotateConsumerKey>false</shouldRotateConsumerKey>
    <shouldRotateConsumerSecret>false</shouldRotateConsumerSecret>"
        ),
    );
    let policies = file(
        MetadataType::ExtlClntAppOauthConfigurablePolicies,
        &format!(
            "    <commaSeparatedProfile>System Administrator</commaSeparatedProfile>
    <externalClientApplication>hardis_ci</externalClientApplication>
    <ipRelaxationPolicyType>Enforce</ipRelaxationPolicyType>
    <isClientCredentialsFlowEnabled>false</isClientCredentialsFlowEnabled>
    <isGuestCodeCredFlowEnabled>false</isGuestCodeCredFlowEnabled>{named_user}
    <isTokenExchangeFlowEnabled>false</isTokenExchangeFlowEnabled>
    <label>hardis_ciOAuthSettings_defaultPolicy</label>
    <permittedUsersPolicyType>AdminApprovedPreAuthorized</permittedUsersPolicyType>
    <refreshTokenPolicyType>SpecificLifetime</refreshTokenPolicyType>
    <refreshTokenValidityPeriod>4</refreshTokenValidityPeriod>
    <refreshTokenValidityUnit>Hours</refreshTokenValidityUnit>
    <requiredSessionLevel>STANDARD</requiredSessionLevel>"
        ),
    );
    let plugins = file(
        MetadataType::ExtlClntAppConfigurablePolicies,
        "    <externalClientApplication>hardis_ci</externalClientApplication>
    <isEnabled>true</isEnabled>
    <isOauthPluginEnabled>true</isOauthPluginEnabled>
    <label>hardis_ci_defaultPolicy</label>",
    );
    let mut manifest = Package::new(version);
    let names = [
        (MetadataType::ExternalClientApplication, "hardis_ci", header),
        (
            MetadataType::ExtlClntAppOauthSettings,
            "hardis_ciOAuthSettings",
            settings,
        ),
        (
            MetadataType::ExtlClntAppGlobalOauthSettings,
            "hardis_ciGlblOAuth",
            global,
        ),
        (
            MetadataType::ExtlClntAppOauthConfigurablePolicies,
            "hardis_ciOAuthSettings_defaultPolicy",
            policies,
        ),
        (
            MetadataType::ExtlClntAppConfigurablePolicies,
            "hardis_ci_defaultPolicy",
            plugins,
        ),
    ];
    for (kind, name, _) in &names {
        manifest.add(*kind, name);
    }
    let manifest = manifest.to_xml().unwrap();
    let mut files: Vec<(String, Vec<u8>)> = vec![("package.xml".into(), manifest.into_bytes())];
    for (kind, name, xml) in names {
        files.push((format!("{}-meta.xml", kind.path(name)), xml.into_bytes()));
    }
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    zip_of(&refs)
}

#[test]
fn an_sfdx_hardis_bundle_reads_at_62_and_67() {
    for version in [62, 67] {
        let zip = DeployZip::read(&hardis_bundle(version), &ZipLimits::default()).unwrap();
        let manifest = Package::from_xml(&zip.package_xml).unwrap();
        assert_eq!(manifest.api_major(), Some(version));
        let mut read_back = Vec::new();
        for t in &manifest.types {
            let kind = MetadataType::from_name(&t.name).unwrap();
            for m in &t.members {
                let f = zip.find(kind, m).unwrap_or_else(|| panic!("{kind} {m}"));
                read_back.push(read(
                    kind,
                    std::str::from_utf8(&f.bytes).unwrap(),
                    &strict(version),
                ));
            }
        }
        assert_eq!(read_back.len(), 5, "{version}");
        for c in &read_back {
            match c {
                Component::ExtlClntAppGlobalOauthSettings(g) => {
                    let key = g.consumer_key.as_deref().unwrap();
                    assert_eq!(key, HARDIS_KEY);
                    assert!(check_eca_consumer_key(key).is_ok());
                    assert!(check_consumer_key(key).is_err());
                }
                Component::ExtlClntAppOauthConfigurablePolicies(p) => {
                    assert_eq!(
                        p.refresh_token_policy_type,
                        Some(RefreshTokenPolicyType::SpecificLifetime)
                    );
                    assert_eq!(p.refresh_token_validity_period, Some(4));
                    assert_eq!(
                        p.refresh_token_validity_unit,
                        Some(RefreshTokenValidityUnit::Hours)
                    );
                    assert_eq!(p.required_session_level, Some(SessionLevel::Standard));
                    assert_eq!(p.comma_separated_profile, ["System Administrator"]);
                }
                _ => {}
            }
        }
    }
    // below the versions of its elements, the same files are refused
    let zip = DeployZip::read(&hardis_bundle(60), &ZipLimits::default()).unwrap();
    let g = zip
        .find(
            MetadataType::ExtlClntAppGlobalOauthSettings,
            "hardis_ciGlblOAuth",
        )
        .unwrap();
    let p = Component::from_xml(
        MetadataType::ExtlClntAppGlobalOauthSettings,
        &g.bytes,
        &strict(60),
    )
    .unwrap_err();
    assert!(
        p.message
            .contains("}isCodeCredFlowEnabled invalid at this location"),
        "{p}"
    );
}

#[test]
fn eca_consumer_keys() {
    assert_eq!(HARDIS_KEY.len(), 119);
    for ok in [
        "abcd1234",
        HARDIS_KEY,
        "a+b/c=d-e_f.g~h",
        "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
        &"k".repeat(256),
    ] {
        assert!(check_eca_consumer_key(ok).is_ok(), "{ok}");
    }
    for bad in [
        "",
        "abc1234",
        "abcd 1234",
        "abcd\t1234",
        "abcd\n1234",
        "abcdé1234",
        &"k".repeat(257),
    ] {
        assert!(check_eca_consumer_key(bad).is_err(), "{bad:?}");
    }
    // the connected app's rule is unchanged
    assert!(check_consumer_key("a+b/c=d-e_f").is_err());
    assert!(check_consumer_key("abcd1234").is_ok());
}
