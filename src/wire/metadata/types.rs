//! The metadata component types a JWT bearer integration deploys: `ConnectedApp`, the five
//! External Client App types, and `PermissionSet`. Each struct's fields are declared in the
//! schema's element order (alphabetical after `fullName`, as in the Metadata API WSDL), so
//! [`super::Component::to_xml`] writes them in that order; each has a field table (`FIELDS`)
//! that reading checks the file against (element names, order, required elements, enum
//! values, the API version of each element). The structs model what certmint or the
//! emulator reads; the tables know every element the reference documents, so the others
//! are checked (name, place, version, and the value's type where it is a string, boolean,
//! integer or documented enumeration) and not kept. Nested types nobody reads (canvas and
//! SAML settings, IP ranges, custom attributes, ID and asset token settings) have tables of
//! their own, their enumerations read as text.
//!
//! Sources, for the element lists, the required elements and each `since` (the first API
//! version, where the reference gives one; none means every version of the type):
//!
//! - Salesforce's Metadata API Developer Guide, version 67.0 (Summer '26, release 262.0):
//!   the type pages ConnectedApp (with ConnectedAppAttribute, ConnectedAppCanvasConfig,
//!   ConnectedAppIpRange, ConnectedAppOauthConfig, ConnectedAppOauthAssetToken,
//!   ConnectedAppOauthIdToken, ConnectedAppOauthPolicy, ConnectedAppSamlConfig,
//!   ConnectedAppSessionPolicy), ExternalClientApplication, ExtlClntAppGlobalOauthSettings
//!   (with ExternalAppIdTokenConfig), ExtlClntAppOauthSettings (with
//!   ExtlClntAppOauthSettingsAttribute, ExtlClntAppOauthIpRange),
//!   ExtlClntAppOauthConfigurablePolicies (with ExtlClntAppOauthPoliciesAttribute) and
//!   ExtlClntAppConfigurablePolicies; checked against the version 66.0 guide (release
//!   260.0), which lists the same ECA elements, and against what could be read of the
//!   59.0 and 61.0 pages (246.0, 250.0), which agree with the versions given. The
//!   PermissionSet table is from its page, not revisited since.
//! - The order: the Metadata API WSDL, version 47.0 (as jsforce ships it,
//!   `src/api/metadata/wsdl.xml`), for ConnectedApp and the nested types it has, all
//!   alphabetical; the ECA types are newer than that WSDL, so their order is the same
//!   convention (the reference's tables and samples list some elements otherwise:
//!   `isEnabled` before `isCanvasPluginEnabled`, `guestJwtTimeout` before
//!   `guestJwtSessionTimeoutType`).
//! - Elements in the WSDL but not in the reference (`canvas`, `mobileAppConfig`) stay
//!   known, unchecked inside.
//!
//! `docs/emulator.md` ("Element tables") lists the choices made where the sources are
//! silent.

use serde::{Deserialize, Serialize};

use super::enums::{
    DistributionState, IpRelaxation, IpRelaxationPolicyType, OauthScope, PermittedUsersPolicyType,
    RefreshTokenPolicyType, RefreshTokenValidityUnit, SessionLevel,
};
use super::xml::{Field, Kind, boolean, comma_list, comma_names, opaque, text};

const fn int(name: &'static str) -> Field {
    Field::new(name, Kind::Int)
}

/// An element of a nested type: its name, the type's name (as in error messages) and
/// fields.
const fn nested(name: &'static str, in_type: &'static str, fields: &'static [Field]) -> Field {
    Field::new(name, Kind::Nested(in_type, fields))
}

/// An enumeration the structs do not model: its schema name and values.
const fn enum_of(
    name: &'static str,
    schema: &'static str,
    values: &'static [&'static str],
) -> Field {
    Field::new(name, Kind::Enum(schema, values))
}

macro_rules! enum_field {
    ($name:literal, $t:ty) => {
        Field::new($name, Kind::Enum(<$t>::SCHEMA_NAME, <$t>::NAMES))
    };
}

/// `ConnectedApp` (`connectedApps/<name>.connectedApp`, API 29.0+).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectedApp {
    /// Contact email (required).
    pub contact_email: String,
    /// Contact phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_phone: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Info URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info_url: Option<String>,
    /// The app's name (required).
    pub label: String,
    /// Logo URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// OAuth settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_config: Option<ConnectedAppOauthConfig>,
    /// OAuth policies (API 49.0+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_policy: Option<ConnectedAppOauthPolicy>,
    /// Pre-authorized permission sets (API 46.0+; needs `isAdminApproved`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permission_set_name: Vec<String>,
    /// Pre-authorized profiles, by name (API 46.0+; needs `isAdminApproved`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profile_name: Vec<String>,
    /// Session policy (API 49.0+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_policy: Option<ConnectedAppSessionPolicy>,
    /// Start URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_url: Option<String>,
}

impl ConnectedApp {
    /// The element table of `ConnectedApp`.
    pub(crate) const FIELDS: &'static [Field] = &[
        text("fullName"),
        nested("attributes", "ConnectedAppAttribute", ATTRIBUTE).many(),
        // CanvasMetadata: in the WSDL (47.0), not in the reference.
        opaque("canvas"),
        nested("canvasConfig", "ConnectedAppCanvasConfig", CANVAS_CONFIG),
        text("contactEmail").required(),
        text("contactPhone"),
        text("description"),
        text("iconUrl"),
        text("infoUrl"),
        nested("ipRanges", "ConnectedAppIpRange", IP_RANGE).many(),
        text("label").required(),
        text("logoUrl"),
        // ConnectedAppMobileDetailConfig: in the WSDL (47.0), not in the 67.0 reference.
        opaque("mobileAppConfig"),
        text("mobileStartUrl"),
        nested(
            "oauthConfig",
            "ConnectedAppOauthConfig",
            ConnectedAppOauthConfig::FIELDS,
        ),
        nested(
            "oauthPolicy",
            "ConnectedAppOauthPolicy",
            ConnectedAppOauthPolicy::FIELDS,
        )
        .since(49),
        text("permissionSetName").many().since(46),
        // "The name of a custom Apex class" (string).
        text("plugin"),
        text("pluginExecutionUser").since(46),
        text("profileName").many().since(46),
        nested("samlConfig", "ConnectedAppSamlConfig", SAML_CONFIG),
        nested(
            "sessionPolicy",
            "ConnectedAppSessionPolicy",
            ConnectedAppSessionPolicy::FIELDS,
        )
        .since(49),
        text("startUrl"),
    ];
}

/// `ConnectedAppAttribute`, `ExtlClntAppOauthSettingsAttribute` and
/// `ExtlClntAppOauthPoliciesAttribute`: a custom attribute.
const ATTRIBUTE: &[Field] = &[text("formula").required(), text("key").required()];

/// `ConnectedApp/canvasConfig` (`ConnectedAppCanvasConfig`).
const CANVAS_CONFIG: &[Field] = &[
    // AccessMethod: Get, Post.
    text("accessMethod").required(),
    text("canvasUrl").required(),
    text("lifecycleClass").since(31),
    // CanvasLocationOptions, values added over versions.
    text("locations").many(),
    // CanvasOptions: HideShare, HideHeader (30.0), PersonalEnabled (32.0).
    text("options").many(),
    // SamlInitiationMethod: IdpInitiated, SpInitiated, None.
    text("samlInitiationMethod").since(31),
];

/// `ConnectedApp/ipRanges` (`ConnectedAppIpRange`).
const IP_RANGE: &[Field] = &[
    text("description").since(31),
    text("end").required(),
    text("start").required(),
];

/// `ConnectedApp/samlConfig` (`ConnectedAppSamlConfig`); enumerations as text.
const SAML_CONFIG: &[Field] = &[
    text("acsUrl").required(),
    text("certificate"),
    text("encryptionCertificate").since(30),
    text("encryptionType").since(30),
    text("entityUrl").required(),
    text("issuer").since(29),
    text("samlIdpSLOBindingEnum").since(40),
    text("samlNameIdFormat").since(29),
    text("samlSigningAlgoType").since(50),
    text("samlSloUrl").since(40),
    text("samlSubjectCustomAttr").since(29),
    text("samlSubjectType").required(),
];

/// `ConnectedApp/oauthConfig/assetTokenConfig` (`ConnectedAppOauthAssetToken`, API 49.0+).
const ASSET_TOKEN: &[Field] = &[
    text("assetAudiences").required(),
    boolean("assetIncludeAttributes").required(),
    boolean("assetIncludeCustomPerms").required(),
    text("assetSigningCertId").required(),
    int("assetValidityPeriod").required(),
];

/// `ConnectedApp/oauthConfig/idTokenConfig` (`ConnectedAppOauthIdToken`, API 43.0+).
const ID_TOKEN: &[Field] = &[
    text("idTokenAudience"),
    boolean("idTokenIncludeAttributes"),
    boolean("idTokenIncludeCustomPerms"),
    boolean("idTokenIncludeStandardClaims"),
    int("idTokenValidity"),
];

/// `ConnectedApp/oauthConfig` (`ConnectedAppOauthConfig`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectedAppOauthConfig {
    /// The OAuth redirect URI (required; the JWT flow does not use it).
    pub callback_url: String,
    /// The PEM certificate whose key signs the JWT bearer assertions (armored PEM or the
    /// bare base64 body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// The consumer key (`iss`): settable only at creation, 8 to 256 alphanumerics,
    /// globally unique.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer_key: Option<String>,
    /// The consumer secret (settable only at creation; never read back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer_secret: Option<String>,
    /// "Admin approved users are pre-authorized" (API 46.0+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_admin_approved: Option<bool>,
    /// Client credentials flow (API 56.0+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_client_credential_enabled: Option<bool>,
    /// The web server flow may omit the secret (API 49.0+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_consumer_secret_optional: Option<bool>,
    /// JWT-format access tokens (API 59.0+; not the JWT bearer flow).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_named_user_jwt_enabled: Option<bool>,
    /// PKCE required (API 59.0+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_pkce_required: Option<bool>,
    /// The run-as user of the client credentials flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_client_credential_user: Option<String>,
    /// OAuth scopes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<OauthScope>,
}

impl ConnectedAppOauthConfig {
    pub(crate) const FIELDS: &'static [Field] = &[
        nested(
            "assetTokenConfig",
            "ConnectedAppOauthAssetToken",
            ASSET_TOKEN,
        )
        .since(49),
        text("callbackUrl").required(),
        text("certificate"),
        text("consumerKey"),
        text("consumerSecret").since(32),
        nested("idTokenConfig", "ConnectedAppOauthIdToken", ID_TOKEN).since(43),
        boolean("isAdminApproved").since(46),
        boolean("isClientCredentialEnabled").since(56),
        boolean("isCodeCredentialEnabled").since(57),
        boolean("isCodeCredentialPostOnly").since(57),
        boolean("isConsumerSecretOptional").since(49),
        boolean("isIntrospectAllTokens").since(49),
        boolean("isNamedUserJwtEnabled").since(59),
        boolean("isPkceRequired").since(59),
        boolean("isRefreshTokenRotationEnabled").since(60),
        boolean("isSecretRequiredForRefreshToken").since(51),
        boolean("isSecretRequiredForTokenExchange").since(60),
        boolean("isTokenExchangeEnabled").since(60),
        text("oauthClientCredentialUser").since(56),
        enum_field!("scopes", OauthScope).many(),
        text("singleLogoutUrl"),
    ];
}

/// `ConnectedApp/oauthPolicy` (`ConnectedAppOauthPolicy`, API 49.0+).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectedAppOauthPolicy {
    /// IP relaxation (required).
    pub ip_relaxation: IpRelaxation,
    /// `zero`, `infinite`, `specific_lifetime:<n>:HOURS|DAYS|MONTHS` or
    /// `specific_inactivity:<n>:…` (required).
    pub refresh_token_policy: String,
    /// Single logout URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub single_logout_url: Option<String>,
}

impl ConnectedAppOauthPolicy {
    pub(crate) const FIELDS: &'static [Field] = &[
        enum_field!("ipRelaxation", IpRelaxation).required(),
        text("refreshTokenPolicy").required(),
        text("singleLogoutUrl"),
    ];
}

/// `ConnectedApp/sessionPolicy` (`ConnectedAppSessionPolicy`, API 49.0+).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectedAppSessionPolicy {
    /// What happens at a high-assurance requirement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_action: Option<String>,
    /// Required session level (`HIGH_ASSURANCE` blocks JWT logins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_level: Option<SessionLevel>,
    /// Session timeout, minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_timeout: Option<u32>,
}

impl ConnectedAppSessionPolicy {
    pub(crate) const FIELDS: &'static [Field] = &[
        text("policyAction"),
        enum_field!("sessionLevel", SessionLevel),
        int("sessionTimeout"),
    ];
}

/// `ExternalClientApplication` (`externalClientApps/<name>.eca`, API 59.0+): the header
/// the other four types link to by `externalClientApplication`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalClientApplication {
    /// Contact email (required here, as for a connected app: inferred).
    pub contact_email: String,
    /// Contact phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_phone: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `Local` or `Packaged`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution_state: Option<DistributionState>,
    /// Info URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info_url: Option<String>,
    /// Protected (managed packages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_protected: Option<bool>,
    /// The app's name (required).
    pub label: String,
    /// Logo URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// `<OrgId>:<AppName>` (generated when missing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_scoped_external_app: Option<String>,
}

impl ExternalClientApplication {
    pub(crate) const FIELDS: &'static [Field] = &[
        text("fullName"),
        text("contactEmail").required(),
        text("contactPhone"),
        text("description"),
        enum_field!("distributionState", DistributionState),
        text("iconUrl"),
        text("infoUrl"),
        boolean("isProtected"),
        text("label").required(),
        text("logoUrl"),
        // ExtlClntAppManagedType, "for internal use only": its values are not documented.
        text("managedType"),
        text("orgScopedExternalApp"),
    ];
}

/// `ExtlClntAppGlobalOauthSettings` (`extlClntAppGlobalOauthSets/<name>.ecaGlblOauth`, API
/// 59.0+): the certificate, consumer key and callback URL. Not packageable.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtlClntAppGlobalOauthSettings {
    /// The OAuth redirect URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    /// The PEM certificate; "when provided, it enables the JWT Bearer flow" (API 60.0+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// The consumer key (set at creation; letters and digits only is the safe choice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer_key: Option<String>,
    /// The consumer secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer_secret: Option<String>,
    /// The header this belongs to (required).
    pub external_client_application: String,
    /// Client credentials flow (API 60.0+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_client_credentials_flow_enabled: Option<bool>,
    /// The web server flow may omit the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_consumer_secret_optional: Option<bool>,
    /// Device flow (API 60.0+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_device_flow_enabled: Option<bool>,
    /// PKCE required (Salesforce's default: true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_pkce_required: Option<bool>,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Rotate the consumer key (needs `ignoreWarnings`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub should_rotate_consumer_key: Option<bool>,
    /// Rotate the consumer secret (needs `ignoreWarnings`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub should_rotate_consumer_secret: Option<bool>,
}

impl ExtlClntAppGlobalOauthSettings {
    pub(crate) const FIELDS: &'static [Field] = &[
        text("fullName"),
        text("callbackUrl"),
        text("certificate").since(60),
        text("consumerKey"),
        text("consumerSecret"),
        text("externalClientApplication").required(),
        nested("idTokenConfig", "ExternalAppIdTokenConfig", ECA_ID_TOKEN),
        boolean("isClientCredentialsFlowEnabled").since(60),
        boolean("isCodeCredFlowEnabled").since(61),
        boolean("isCodeCredPostOnly").since(61),
        boolean("isConsumerSecretOptional"),
        boolean("isDeviceFlowEnabled").since(60),
        boolean("isIntrospectAllTokens"),
        boolean("isNamedUserJwtEnabled").since(61),
        boolean("isPkceRequired"),
        boolean("isRefreshTokenRotationEnabled").since(60),
        boolean("isSecretRequiredForRefreshToken"),
        boolean("isSecretRequiredForTokenExchange").since(60),
        boolean("isTokenExchangeEnabled").since(60),
        text("label"),
        boolean("shouldRotateConsumerKey"),
        boolean("shouldRotateConsumerSecret"),
    ];
}

/// `ExtlClntAppGlobalOauthSettings/idTokenConfig` (`ExternalAppIdTokenConfig`).
const ECA_ID_TOKEN: &[Field] = &[
    text("idTokenAudience"),
    boolean("idTokenIncludeAttributes"),
    boolean("idTokenIncludeStandardClaims"),
    int("idTokenValidityInMinutes"),
];

/// `ExtlClntAppOauthSettings` (`extlClntAppOauthSettings/<name>.ecaOauth`, API 59.0+): the
/// scopes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtlClntAppOauthSettings {
    /// Scopes, written `Api, Web, RefreshToken`.
    #[serde(default, with = "comma_list", skip_serializing_if = "Vec::is_empty")]
    pub comma_separated_oauth_scopes: Vec<OauthScope>,
    /// The header this belongs to (required).
    pub external_client_application: String,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl ExtlClntAppOauthSettings {
    pub(crate) const FIELDS: &'static [Field] = &[
        text("fullName"),
        boolean("areAttributesIncludedInAssetToken").since(61),
        boolean("areCustomPermsIncludedInAssetToken").since(61),
        text("assetTokenAudiences").since(61),
        text("assetTokenSigningCertificate").since(61),
        int("assetTokenValidity").since(61),
        text("clientAssertionCertificate"),
        Field::new(
            "commaSeparatedOauthScopes",
            Kind::EnumList(OauthScope::SCHEMA_NAME, OauthScope::NAMES),
        ),
        nested(
            "customAttributes",
            "ExtlClntAppOauthSettingsAttribute",
            ATTRIBUTE,
        )
        .many(),
        text("externalClientApplication").required(),
        // No version given; live retrieves have it (`false`).
        boolean("isFirstPartyAppEnabled"),
        text("label"),
        text("oauthLink"),
        text("singleLogoutUrl"),
        nested("trustedIpRanges", "ExtlClntAppOauthIpRange", ECA_IP_RANGE).many(),
    ];
}

/// `ExtlClntAppOauthSettings/trustedIpRanges` (`ExtlClntAppOauthIpRange`).
const ECA_IP_RANGE: &[Field] = &[
    text("description"),
    text("endIpAddress").required(),
    text("startIpAddress").required(),
];

/// `ExtlClntAppOauthConfigurablePolicies` (`extlClntAppOauthPolicies/<name>.ecaOauthPlcy`,
/// API 59.0+): who may use the app (admin approval and pre-authorization).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtlClntAppOauthConfigurablePolicies {
    /// Pre-authorized permission sets (names or ids).
    #[serde(default, with = "comma_names", skip_serializing_if = "Vec::is_empty")]
    pub comma_separated_permission_set: Vec<String>,
    /// Pre-authorized profiles, by name.
    #[serde(default, with = "comma_names", skip_serializing_if = "Vec::is_empty")]
    pub comma_separated_profile: Vec<String>,
    /// The header this belongs to (required).
    pub external_client_application: String,
    /// IP relaxation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_relaxation_policy_type: Option<IpRelaxationPolicyType>,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Permitted users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permitted_users_policy_type: Option<PermittedUsersPolicyType>,
    /// Refresh token policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_policy_type: Option<RefreshTokenPolicyType>,
    /// Refresh token validity period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_validity_period: Option<u32>,
    /// Refresh token validity unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_validity_unit: Option<RefreshTokenValidityUnit>,
    /// Required session level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_session_level: Option<SessionLevel>,
    /// Session timeout for opaque tokens, minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_timeout_in_minutes: Option<u32>,
}

impl ExtlClntAppOauthConfigurablePolicies {
    pub(crate) const FIELDS: &'static [Field] = &[
        text("fullName"),
        text("apexHandler").since(61),
        text("clientCredentialsFlowUser").since(60),
        text("commaSeparatedCustomScopes").since(61),
        text("commaSeparatedPermissionSet"),
        text("commaSeparatedProfile"),
        nested(
            "customAttributes",
            "ExtlClntAppOauthPoliciesAttribute",
            ATTRIBUTE,
        )
        .many(),
        text("executeHandlerAs").since(61),
        text("externalClientApplication").required(),
        enum_of(
            "guestJwtSessionTimeoutType",
            "JWTSessionTimeoutType",
            JWT_SESSION_TIMEOUT_TYPE,
        )
        .since(65),
        // The reference dates its values (1 to 30 minutes: 61.0, up to 720: 65.0), not the
        // element; 61.0 is taken as the element's.
        int("guestJwtTimeout").since(61),
        enum_field!("ipRelaxationPolicyType", IpRelaxationPolicyType),
        boolean("isClientCredentialsFlowEnabled").since(60),
        boolean("isGuestCodeCredFlowEnabled").since(61),
        // "Deprecated" in the reference, still listed (sfdx-hardis sends it for 61.0 to 63.0).
        boolean("isNamedUserJwtEnabled"),
        boolean("isTokenExchangeFlowEnabled").since(60),
        text("label"),
        enum_of(
            "namedUserJwtSessionTimeoutType",
            "JWTSessionTimeoutType",
            JWT_SESSION_TIMEOUT_TYPE,
        )
        .since(65),
        // As guestJwtTimeout.
        int("namedUserJwtTimeout").since(61),
        enum_field!("permittedUsersPolicyType", PermittedUsersPolicyType),
        // PolicyAction: Block, RaiseSessionLevel.
        text("policyAction"),
        enum_field!("refreshTokenPolicyType", RefreshTokenPolicyType),
        int("refreshTokenValidityPeriod"),
        enum_field!("refreshTokenValidityUnit", RefreshTokenValidityUnit),
        enum_field!("requiredSessionLevel", SessionLevel),
        int("sessionTimeoutInMinutes"),
        text("singleLogoutUrl"),
        text("startUrl"),
    ];
}

/// The values of `JWTSessionTimeoutType` (`guestJwtSessionTimeoutType`,
/// `namedUserJwtSessionTimeoutType`).
const JWT_SESSION_TIMEOUT_TYPE: &[&str] = &["UserSession", "Custom"];

/// `ExtlClntAppConfigurablePolicies` (`extlClntAppPolicies/<name>.ecaPlcy`, API 60.0+): the
/// plugin switches.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtlClntAppConfigurablePolicies {
    /// The header this belongs to (required).
    pub external_client_application: String,
    /// The app is enabled (required).
    pub is_enabled: bool,
    /// The OAuth plugin is enabled (Salesforce's default: true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_oauth_plugin_enabled: Option<bool>,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl ExtlClntAppConfigurablePolicies {
    pub(crate) const FIELDS: &'static [Field] = &[
        text("fullName"),
        text("externalClientApplication").required(),
        boolean("isCanvasPluginEnabled").since(66),
        boolean("isEnabled").required().since(60),
        boolean("isMobilePluginEnabled").since(63),
        boolean("isNotificationPluginEnabled").since(63),
        boolean("isOauthPluginEnabled").since(60),
        boolean("isPushPluginEnabled").since(63),
        boolean("isSamlPluginEnabled").since(63),
        text("label"),
        enum_of(
            "startPage",
            "ExtlClntAppStartPage",
            &["Custom", "None", "OAuth"],
        )
        .since(63),
        text("startUrl").since(63),
    ];
}

/// `PermissionSet` (`permissionsets/<name>.permissionset`): the parts an integration user's
/// permission set needs. Object, field, class and tab settings are accepted and not kept.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionSet {
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Session activation required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_activation_required: Option<bool>,
    /// Label (required).
    pub label: String,
    /// License.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// User permissions (`ApiEnabled`, `ModifyAllData`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_permissions: Vec<PermissionSetUserPermission>,
}

impl PermissionSet {
    pub(crate) const FIELDS: &'static [Field] = &[
        text("fullName"),
        opaque("applicationVisibilities").many(),
        opaque("classAccesses").many(),
        opaque("customMetadataTypeAccesses").many(),
        opaque("customPermissions").many(),
        opaque("customSettingAccesses").many(),
        text("description"),
        opaque("externalCredentialPrincipalAccesses").many(),
        opaque("externalDataSourceAccesses").many(),
        opaque("fieldPermissions").many(),
        opaque("flowAccesses").many(),
        boolean("hasActivationRequired"),
        text("label").required(),
        text("license"),
        opaque("objectPermissions").many(),
        opaque("pageAccesses").many(),
        opaque("recordTypeVisibilities").many(),
        opaque("tabSettings").many(),
        Field::new(
            "userPermissions",
            Kind::Nested(
                "PermissionSetUserPermission",
                PermissionSetUserPermission::FIELDS,
            ),
        )
        .many(),
    ];
}

/// `PermissionSet/userPermissions`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionSetUserPermission {
    /// Granted.
    pub enabled: bool,
    /// The permission's API name, e.g. `ApiEnabled`.
    pub name: String,
}

impl PermissionSetUserPermission {
    pub(crate) const FIELDS: &'static [Field] =
        &[boolean("enabled").required(), text("name").required()];
}
