//! The observer `token inspect` runs the server's pipeline with: it records each [`Step`] as the
//! pipeline reports it, in the pipeline's order, with a status and a reason a person can read, then
//! adds the steps the pipeline could not run (`skip`, with what they needed) and the caller's last
//! step, revocation ([`super::revocation`]).

use hyperjwt::jwt::{
    self, Algorithm, Claims, DecodeBuf, Found, JwtError, Observer, Outcome, Rules, SIGNATURE_LEN,
    Step, b64,
};

use super::checked::{Checked, Status};
use super::context::{Context, Keys};
use super::reasons::{claims_reason, header_reason};
use super::revocation;
use crate::time;

/// What inspecting one token found.
#[derive(Debug, Default)]
pub struct Inspection {
    /// In [`Step`] order, each step once (`iss` and `aud` only when configured or in the token).
    pub steps: Vec<Checked>,
    pub header: Option<Vec<u8>>,
    pub payload: Option<Vec<u8>>,
}

/// The overall answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    /// The first step that failed, and the server's error there.
    Invalid(Step, JwtError),
    /// A step could not be carried out (its file could not be read).
    Error(Step),
    Unverified,
}

impl Inspection {
    pub fn status(&self, step: Step) -> Option<Status> {
        self.step(step).map(|s| s.status)
    }

    pub fn step(&self, step: Step) -> Option<&Checked> {
        self.steps.iter().find(|s| s.step == step)
    }

    pub fn verdict(&self) -> Verdict {
        let failed = self.steps.iter().filter(|s| s.status == Status::Fail);
        if let Some(verdict) = failed
            .filter_map(|s| Some(Verdict::Invalid(s.step, s.error?)))
            .next()
        {
            return verdict;
        }
        if let Some(step) = self.steps.iter().find(|s| s.status == Status::Error) {
            return Verdict::Error(step.step);
        }
        if self.status(Step::Signature) == Some(Status::Pass) {
            Verdict::Valid
        } else {
            Verdict::Unverified
        }
    }
}

/// Runs the server's pipeline on `token`, observed, then the caller's revocation step.
pub fn inspect(token: &str, context: &Context) -> Inspection {
    let rules = Rules {
        max_len: context.max_len,
        validation: &context.validation,
        expected: context.expected,
        now: context.now,
    };
    let mut recorder = Recorder::new(token, context);
    let mut payload_buf = DecodeBuf::new();
    let source = context.keys.source();
    // The answer is the first failure, which the recorded steps already hold.
    let _ = jwt::verify_observed(
        source.as_ref().map(|source| source.keys()),
        token,
        &rules,
        &mut payload_buf,
        &mut recorder,
    );
    recorder.finish()
}

/// Records the pipeline's steps, and keeps what earlier steps found for the details of later ones.
struct Recorder<'c> {
    context: &'c Context,
    token_len: usize,
    observed: Vec<Checked>,
    /// Characters in the header, payload and signature segments.
    lengths: [usize; 3],
    signature_segment: String,
    header: Option<Vec<u8>>,
    alg: String,
    kid: Option<String>,
    key_kid: String,
    key_alg: Option<Algorithm>,
    signature_len: usize,
    payload: Option<Vec<u8>>,
    claims: Option<Claims<'static>>,
}

impl Observer for Recorder<'_> {
    /// Go on after a failure, so the report shows every step the token's bytes allow.
    const DIAGNOSE: bool = true;

    fn observe(&mut self, step: Step, outcome: Outcome<'_>) {
        let (status, detail, error) = match outcome {
            Outcome::Pass(found) => {
                self.keep(step, found);
                (Status::Pass, self.passed(step), None)
            }
            Outcome::Fail(error) => {
                let detail = match self.why(step) {
                    Some(more) => format!("{} ({more})", error.detail()),
                    None => error.detail().to_string(),
                };
                (Status::Fail, detail, Some(error))
            }
            Outcome::Unchecked => (
                Status::NotChecked,
                if cfg!(feature = "public-keys") {
                    "not checked: no key (give --secret KEY, --public-key FILE or --jwks FILE, \
                     or set JWT_SECRET_KEY)"
                } else {
                    "not checked: no key (give --secret KEY, or set JWT_SECRET_KEY)"
                }
                .into(),
                None,
            ),
        };
        self.observed.push(Checked {
            step,
            status,
            detail,
            error,
        });
    }
}

impl<'c> Recorder<'c> {
    fn new(token: &str, context: &'c Context) -> Self {
        Recorder {
            context,
            token_len: token.len(),
            observed: Vec::new(),
            lengths: [0; 3],
            signature_segment: String::new(),
            header: None,
            alg: String::new(),
            kid: None,
            key_kid: String::new(),
            key_alg: None,
            signature_len: 0,
            payload: None,
            claims: None,
        }
    }

    /// Copies out what a step found; the pipeline's borrows end with the step.
    fn keep(&mut self, step: Step, found: Found<'_>) {
        match (step, found) {
            (_, Found::Segments(segments)) => {
                self.lengths = [
                    segments.header.len(),
                    segments.payload.len(),
                    segments.signature.len(),
                ];
                self.signature_segment = segments.signature.to_string();
            }
            (Step::HeaderBase64, Found::Bytes(bytes)) => self.header = Some(bytes.to_vec()),
            (Step::PayloadBase64, Found::Bytes(bytes)) => self.payload = Some(bytes.to_vec()),
            (Step::SignatureBase64, Found::Bytes(bytes)) => self.signature_len = bytes.len(),
            (_, Found::Header(header)) => {
                self.alg = format!("{:?}", header.alg);
                self.kid = header.kid.as_deref().map(str::to_string);
            }
            (_, Found::Key(key)) => {
                self.key_kid = key.kid().to_string();
                self.key_alg = Some(key.alg());
            }
            (_, Found::Claims(claims)) => self.claims = Some(claims.clone().into_owned()),
            _ => {}
        }
    }

    /// The report: the pipeline's steps 1–16 in order, those it could not run marked `skip` with
    /// the input they lacked, then step 17.
    fn finish(mut self) -> Inspection {
        let mut steps = Vec::with_capacity(Step::ALL.len());
        for step in Step::ALL.into_iter().filter(|&s| s != Step::Revocation) {
            if !self.shown(step) {
                continue;
            }
            match self.observed.iter().position(|c| c.step == step) {
                Some(i) => steps.push(self.observed.swap_remove(i)),
                None => steps.push(self.skipped(step, &steps)),
            }
        }
        let revocation = match &self.claims {
            Some(claims) => revocation::check(claims, self.context.denylist.as_ref()),
            None => self.skipped(Step::Revocation, &steps),
        };
        steps.push(revocation);
        Inspection {
            steps,
            header: self.header,
            payload: self.payload,
        }
    }

    /// `iss` and `aud` matter only when configured or present in the token; the others always do.
    fn shown(&self, step: Step) -> bool {
        let v = &self.context.validation;
        match step {
            Step::Issuer => {
                v.issuer.is_some() || self.claims.as_ref().is_some_and(|c| c.iss.is_some())
            }
            Step::Audience => {
                v.audience.is_some() || self.claims.as_ref().is_some_and(|c| c.aud.is_some())
            }
            _ => true,
        }
    }

    /// A step the pipeline did not run, and the first of its inputs that did not pass.
    fn skipped(&self, step: Step, so_far: &[Checked]) -> Checked {
        let reached = |input: &&Step| {
            so_far
                .iter()
                .any(|c| c.step == **input && matches!(c.status, Status::Pass | Status::NotChecked))
        };
        let needs = step.inputs().iter().find(|input| !reached(input));
        let why = match (step, needs) {
            (Step::Key, Some(input)) => format!(
                "needs {} (the server chooses no key under a refused header)",
                input.name()
            ),
            (_, Some(input)) => format!("needs {}", input.name()),
            (_, None) => "not run".into(),
        };
        Checked {
            step,
            status: Status::Skip,
            detail: why,
            error: None,
        }
    }

    /// What a passed step saw.
    fn passed(&self, step: Step) -> String {
        let v = &self.context.validation;
        let source = self.context.keys.label();
        match step {
            Step::Length => format!("{} bytes, limit {}", self.token_len, self.context.max_len),
            Step::Segments => {
                let [header, payload, signature] = self.lengths;
                format!("header.payload.signature: {header} + {payload} + {signature} characters")
            }
            Step::HeaderBase64 => format!("{} bytes", self.header.as_ref().map_or(0, Vec::len)),
            Step::Header => "a JSON object with a string \"alg\"".into(),
            Step::Algorithm => self.alg.clone(),
            Step::Critical => "absent".into(),
            Step::Key => format!("{source}, kid {}{}", self.key_kid, self.chosen_by()),
            Step::PayloadBase64 => {
                format!("{} bytes", self.payload.as_ref().map_or(0, Vec::len))
            }
            Step::SignatureBase64 => format!("{} bytes", self.signature_len),
            Step::Signature => match self.key_alg {
                Some(Algorithm::Hs256) | None => {
                    format!("HMAC-SHA256 matches ({source}, kid {})", self.key_kid)
                }
                Some(alg) => format!(
                    "the {alg} signature verifies with the public key ({source}, kid {})",
                    self.key_kid
                ),
            },
            Step::Claims => "a JSON object with valid claims".into(),
            Step::Expiry => format!("{}{}", self.exp_phrase().unwrap_or_default(), self.leeway()),
            Step::NotBefore => self.nbf_phrase().map_or_else(
                || "no \"nbf\": valid from the start".into(),
                |p| format!("{p}{}", self.leeway()),
            ),
            Step::Type => {
                let kind = self.claims.as_ref().map_or("", |c| c.token_type.as_str());
                match self.context.expected {
                    Some(_) => format!("{kind} token, as required"),
                    None => format!("{kind} token (no type required; --type to require one)"),
                }
            }
            Step::Issuer => match &v.issuer {
                Some(issuer) => format!("{issuer:?}, as JWT_ISSUER requires"),
                None => "JWT_ISSUER is unset, so any issuer is accepted".into(),
            },
            Step::Audience => match &v.audience {
                Some(audience) => format!("names {audience:?}, as JWT_AUDIENCE requires"),
                None => "absent".into(),
            },
            Step::Revocation => String::new(),
        }
    }

    /// More on why a step failed than [`JwtError::detail`] says, where the token shows it.
    fn why(&self, step: Step) -> Option<String> {
        match step {
            Step::Length => Some(format!(
                "{} bytes, limit {}",
                self.token_len, self.context.max_len
            )),
            Step::Header => self.header.as_deref().and_then(header_reason),
            Step::Algorithm => Some(format!("it is {}", self.alg)),
            // Valid base64url of the wrong length: say which length.
            Step::SignatureBase64 => {
                b64::decode(&self.signature_segment)
                    .ok()
                    .map(|bytes| match self.key_alg {
                        Some(alg) if alg != Algorithm::Hs256 => {
                            format!(
                                "not one {alg} signature of this key; this one is {} bytes",
                                bytes.len()
                            )
                        }
                        _ => format!(
                            "an HS256 signature is {SIGNATURE_LEN} bytes; this one is {}",
                            bytes.len()
                        ),
                    })
            }
            Step::Signature => Some(format!(
                "{}, kid {}",
                self.context.keys.label(),
                self.key_kid
            )),
            Step::Claims => self.payload.as_deref().and_then(claims_reason),
            Step::Expiry => self.exp_phrase().map(|p| format!("{p}{}", self.leeway())),
            Step::NotBefore => self.nbf_phrase().map(|p| format!("{p}{}", self.leeway())),
            Step::Issuer => Some(format!(
                "the token says {:?}",
                self.claims.as_ref().and_then(|c| c.iss.as_deref())
            )),
            Step::Audience if self.context.validation.audience.is_none() => {
                Some("JWT_AUDIENCE is unset, and a token naming any audience is refused".into())
            }
            _ => None,
        }
    }

    /// Why step 7 took the key it took: `kid` selects among our keys, and nothing else does.
    fn chosen_by(&self) -> String {
        match (&self.context.keys, &self.kid) {
            (Keys::Configured(_), Some(kid)) if *kid == self.key_kid => {
                " (the token's kid names it)".into()
            }
            (Keys::Configured(_), Some(kid)) => {
                format!(" (the token's kid {kid:?} is none of ours: the current key)")
            }
            (Keys::Configured(_), None) => " (no kid: the current key)".into(),
            (_, Some(kid)) if *kid == self.key_kid => " (the token's kid names it)".into(),
            (_, None) => format!(" (no kid: the one key of alg {})", self.alg),
            _ => String::new(),
        }
    }

    fn leeway(&self) -> String {
        match self.context.validation.leeway {
            0 => String::new(),
            seconds => format!(", leeway {seconds}s"),
        }
    }

    fn exp_phrase(&self) -> Option<String> {
        let exp = self.claims.as_ref()?.exp?;
        Some(time::expiry(exp, self.context.now))
    }

    fn nbf_phrase(&self) -> Option<String> {
        let nbf = self.claims.as_ref()?.nbf?;
        Some(format!(
            "valid from {}",
            time::relative(nbf, self.context.now)
        ))
    }
}
