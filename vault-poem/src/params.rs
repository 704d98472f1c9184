//! Parameters and the security requirement of poem-openapi operations. Each is documented
//! like poem-openapi's own, but never rejects a request with poem-openapi's errors: the core
//! parses the values and answers with the contract's problems.

use std::borrow::Cow;
use std::marker::PhantomData;

use poem::{FromRequest, Request, RequestBody};
use poem_openapi::registry::{
    MetaOAuthFlow, MetaOAuthFlows, MetaParamIn, MetaSchemaRef, MetaSecurityScheme, Registry,
};
use poem_openapi::types::{ParseFromParameter, ParseResult, Type};
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};
use vault_core::Principal;

use crate::extract::{AuthUser, MaybeAuthUser};

/// An id in the path, as the client sent it (use it as `Path<Id>`). The core looks it up: a
/// malformed id — not a UUID, or not even UTF-8 once percent-decoded — is simply not found
/// (404), never a parse error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Id(pub String);

impl Id {
    /// The id as sent (empty when it was not valid UTF-8).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Type for Id {
    const IS_REQUIRED: bool = true;

    type RawValueType = Self;

    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        String::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        String::schema_ref()
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl ParseFromParameter for Id {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Ok(Self(value.to_string()))
    }

    /// poem drops a path segment that does not percent-decode to UTF-8; that id matches
    /// nothing, like any other malformed id.
    fn parse_from_parameters<I: IntoIterator<Item = A>, A: AsRef<str>>(
        iter: I,
    ) -> ParseResult<Self> {
        Ok(Self(
            iter.into_iter()
                .next()
                .map(|value| value.as_ref().to_string())
                .unwrap_or_default(),
        ))
    }
}

/// Documents an optional query parameter of type `T` (named by the argument, or by
/// `#[oai(name = "...")]`). The handler reads the raw query string and the core parses it,
/// so a bad value is the contract's `validation_error`, as for every list endpoint.
#[derive(Debug)]
pub struct QueryParam<T>(PhantomData<fn() -> T>);

/// Documents an optional request header of type `T` that the handler reads itself.
#[derive(Debug)]
pub struct HeaderParam<T>(PhantomData<fn() -> T>);

macro_rules! documented_param {
    ($name:ident, $location:expr) => {
        impl<'a, T: Type> ApiExtractor<'a> for $name<T> {
            const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::Parameter];
            const PARAM_IS_REQUIRED: bool = false;

            type ParamType = T;
            type ParamRawType = T;

            fn register(registry: &mut Registry) {
                T::register(registry);
            }

            fn param_in() -> Option<MetaParamIn> {
                Some($location)
            }

            fn param_schema_ref() -> Option<MetaSchemaRef> {
                Some(T::schema_ref())
            }

            async fn from_request(
                _request: &'a Request,
                _body: &mut RequestBody,
                _options: ExtractParamOptions<Self::ParamType>,
            ) -> poem::Result<Self> {
                Ok(Self(PhantomData))
            }
        }
    };
}

documented_param!(QueryParam, MetaParamIn::Query);
documented_param!(HeaderParam, MetaParamIn::Header);

/// The security scheme names operations that need a caller list: a bearer token, or the OAuth2
/// password flow that obtains one (what Swagger UI's Authorize offers).
const SCHEMES: [&str; 2] = ["bearer", "oauth2"];

/// Where the OAuth2 password flow gets its token under the default prefix; `vault_poem::app`
/// rewrites it in its document when `api_prefix` is another one.
pub(crate) const DEFAULT_TOKEN_URL: &str = "/api/auth/token";

/// The authenticated caller of a poem-openapi operation, documented as the `bearer` or
/// `oauth2` security requirement. The same checks as [`AuthUser`] (which plain poem handlers
/// use): 401 problem+json `not_authenticated` without a token, `token_not_valid` for a
/// refused one.
#[derive(Debug, Clone, Copy)]
pub struct ApiAuth(pub Principal);

impl<'a> ApiExtractor<'a> for ApiAuth {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        registry.create_security_scheme(
            SCHEMES[0],
            MetaSecurityScheme {
                ty: "http",
                description: Some("An access token from POST /auth/token"),
                name: None,
                key_in: None,
                scheme: Some("bearer"),
                bearer_format: Some("JWT"),
                flows: None,
                openid_connect_url: None,
            },
        );
        registry.create_security_scheme(
            SCHEMES[1],
            MetaSecurityScheme {
                ty: "oauth2",
                description: None,
                name: None,
                key_in: None,
                scheme: None,
                bearer_format: None,
                flows: Some(MetaOAuthFlows {
                    implicit: None,
                    password: Some(MetaOAuthFlow {
                        authorization_url: None,
                        token_url: Some(DEFAULT_TOKEN_URL),
                        refresh_url: None,
                        scopes: Vec::new(),
                    }),
                    client_credentials: None,
                    authorization_code: None,
                }),
                openid_connect_url: None,
            },
        );
    }

    fn security_schemes() -> Vec<&'static str> {
        SCHEMES.to_vec()
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _options: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let AuthUser(principal) = <AuthUser as FromRequest>::from_request(request, body).await?;
        Ok(Self(principal))
    }
}

/// The caller if a bearer token was sent (documented like [`ApiAuth`]); a token that was sent
/// but does not verify is still refused (401).
#[derive(Debug, Clone, Copy)]
pub struct MaybeApiAuth(pub Option<Principal>);

impl<'a> ApiExtractor<'a> for MaybeApiAuth {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        ApiAuth::register(registry);
    }

    fn security_schemes() -> Vec<&'static str> {
        SCHEMES.to_vec()
    }

    /// Anonymous calls are allowed too (the empty requirement).
    fn has_security_fallback() -> bool {
        true
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _options: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let MaybeAuthUser(principal) =
            <MaybeAuthUser as FromRequest>::from_request(request, body).await?;
        Ok(Self(principal))
    }
}
