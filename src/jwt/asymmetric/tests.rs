//! The keys against the RFCs' own examples (RFC 8037 appendix A, RFC 7515 appendix A.3, RFC 7638
//! §3.1), and each algorithm signing and verifying its own tokens.

use super::*;

/// RFC 8037 appendix A.1: the Ed25519 example key.
const RFC8037_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

fn rfc8037_public() -> PublicKey {
    PublicKey::ed25519(&b64::decode(RFC8037_X).unwrap()).unwrap()
}

#[test]
fn the_rfc_8037_thumbprint() {
    // RFC 8037 appendix A.3.
    let key = rfc8037_public();
    assert_eq!(
        key.thumbprint_input(),
        r#"{"crv":"Ed25519","kty":"OKP","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#
    );
    assert_eq!(key.kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
}

#[test]
fn the_rfc_8037_signature_verifies_and_nothing_else_does() {
    // RFC 8037 appendix A.4: {"alg":"EdDSA"} over "Example of Ed25519 signing".
    let input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
    let signature = b64::decode(
        "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg",
    )
    .unwrap();
    let key = rfc8037_public();
    assert_eq!(key.verify(input.as_bytes(), &signature), Ok(()));
    let mut other = input.to_string();
    other.push('A');
    assert_eq!(
        key.verify(other.as_bytes(), &signature),
        Err(JwtError::Signature)
    );
    // And the private key makes exactly that signature (Ed25519 is deterministic).
    let pair = Ed25519KeyPair::from_seed_and_public_key(
        &b64::decode(RFC8037_D).unwrap(),
        &b64::decode(RFC8037_X).unwrap(),
    )
    .unwrap();
    assert_eq!(pair.sign(input.as_bytes()).as_ref(), signature.as_slice());
}

#[test]
fn the_rfc_7515_es256_example_verifies() {
    // RFC 7515 appendix A.3: the P-256 key and its JWS.
    let key = PublicKey::p256(
        &b64::decode("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU").unwrap(),
        &b64::decode("x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0").unwrap(),
    )
    .unwrap();
    let input = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
    let signature = b64::decode(
        "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q",
    )
    .unwrap();
    assert_eq!(signature.len(), 64, "r || s, 32 bytes each");
    assert_eq!(key.verify(input.as_bytes(), &signature), Ok(()));
    let mut flipped = signature.clone();
    flipped[63] ^= 1;
    assert_eq!(
        key.verify(input.as_bytes(), &flipped),
        Err(JwtError::Signature)
    );
}

#[test]
fn the_rfc_7638_rsa_thumbprint() {
    // RFC 7638 §3.1.
    let n = b64::decode(concat!(
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP",
        "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY",
        "368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0f",
        "M4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    ))
    .unwrap();
    let key = PublicKey::rsa(&n, &b64::decode("AQAB").unwrap()).unwrap();
    assert_eq!(key.kid(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    assert_eq!(key.signature_len(), 256);
}

#[test]
fn generated_keys_sign_what_their_public_keys_verify() {
    for alg in [Algorithm::EdDsa, Algorithm::Es256] {
        let (key, pkcs8) = PrivateKey::generate(alg).unwrap();
        assert_eq!(key.alg(), alg);
        assert_eq!(key.kid(), key.public().thumbprint());
        assert_eq!(key.kid().len(), 43);
        let signature = key.sign(b"header.payload").unwrap();
        assert_eq!(signature.len(), 64);
        assert_eq!(key.public().verify(b"header.payload", &signature), Ok(()));
        assert_eq!(
            key.public().verify(b"header.payloaD", &signature),
            Err(JwtError::Signature)
        );
        // The PKCS#8 it returns reads back as the same key, from DER and from PEM.
        let again = PrivateKey::from_pkcs8(&pkcs8).unwrap();
        assert_eq!(again.public(), key.public());
        let pem = pem::encode(&pkcs8, "PRIVATE KEY");
        assert_eq!(PrivateKey::from_pem(&pem).unwrap().public(), key.public());
        // And its public PEM reads back as its public key.
        let public_pem = key.public().to_pem().unwrap();
        assert_eq!(&PublicKey::from_pem(&public_pem).unwrap(), key.public());
    }
}

#[test]
fn a_key_of_one_type_never_verifies_another_types_signature() {
    let (ed, _) = PrivateKey::generate(Algorithm::EdDsa).unwrap();
    let (ec, _) = PrivateKey::generate(Algorithm::Es256).unwrap();
    let signature = ed.sign(b"input").unwrap();
    assert_eq!(
        ec.public().verify(b"input", &signature),
        Err(JwtError::Signature)
    );
}

#[test]
fn the_header_names_the_algorithm_and_the_thumbprint() {
    let (key, _) = PrivateKey::generate(Algorithm::Es256).unwrap();
    let header = String::from_utf8(b64::decode(key.encoded_header()).unwrap()).unwrap();
    assert_eq!(
        header,
        format!(r#"{{"alg":"ES256","typ":"JWT","kid":"{}"}}"#, key.kid())
    );
    assert!(!format!("{key:?}").contains("BEGIN"));
}

#[test]
fn refuses_what_is_not_a_key_and_cannot_generate_rsa() {
    assert!(matches!(
        PrivateKey::from_pkcs8(b"not a key"),
        Err(KeyError::Unsupported(_))
    ));
    assert!(matches!(
        PrivateKey::from_pem("nothing here"),
        Err(KeyError::Pem(_))
    ));
    assert_eq!(
        PrivateKey::generate(Algorithm::Rs256).err(),
        Some(KeyError::CannotGenerate(Algorithm::Rs256))
    );
    assert!(PublicKey::ed25519(&[0; 31]).is_err());
    assert!(PublicKey::rsa(&[1; 128], &[1, 0, 1]).is_err());
}
