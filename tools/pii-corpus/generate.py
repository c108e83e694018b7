#!/usr/bin/env python3
"""Generates the labelled PII corpus (Tests/TollgateCoreTests/Fixtures/pii_corpus.jsonl).

Values are made here (seeded, so the output is reproducible), validated with independent
libraries (oracles.py), put into sentences in several languages, and mixed with look-alikes
that must not be found. Hand-labelled tricky cases come from tricky.jsonl. Every label is then
re-checked and every text re-scanned by the libraries' own finders (check.py); the run fails on
any disagreement that is not an explicit, tagged policy decision.

Usage: python generate.py [--out PATH]
"""

import argparse
import base64
import json
import os
import random
import string
import sys
import uuid
import hashlib

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

import check
import oracles

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "..", "Tests", "TollgateCoreTests", "Fixtures", "pii_corpus.jsonl")

rng = random.Random(20260301)
B62 = string.ascii_letters + string.digits


def rand(alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))


# --- sentence templates ----------------------------------------------------------------------

TEMPLATES = {
    "EMAIL": [
        "Please write to {v} if anything changes.", "My email is {v}.", "Send the signed contract to {v} by Friday.",
        "Contact: {v}", "cc {v} on the thread, thanks", "You can reach the team at <{v}>.",
        "Bitte antworten Sie an {v}, danke!", "Écrivez-moi à {v} avant lundi.", "Mi correo es {v} por si acaso.",
        "メールアドレスは {v} です。", "我的邮箱是{v}，请查收。", "Мой адрес: {v}", "البريد الإلكتروني: {v}",
        "Il mio indirizzo è {v}.", "O meu e-mail é {v}.", "Mijn e-mailadres is {v}.", "이메일은 {v} 입니다.",
    ],
    "PHONE_NUMBER": [
        "Call me on {v} after 6pm.", "Phone: {v}", "You can reach our support line at {v}.", "My cell is {v}, text first.",
        "Tel. {v} (office hours only)", "Ruf mich unter {v} an.", "Mon numéro est le {v}.", "Llámame al {v} mañana.",
        "電話番号は{v}です。", "请拨打{v}联系我们。", "Позвоните мне по номеру {v}.", "Il mio numero è {v}.",
        "Ligue para {v} amanhã.", "Bel me op {v}.", "मेरा नंबर {v} है।", "Numaram {v}, arayın.",
    ],
    "CREDIT_CARD": [
        "Charge it to my card {v}, expiry 09/27.", "Card number: {v}", "I paid with {v} but was billed twice.",
        "Use the card ending in the digits of {v} please.", "Meine Kreditkarte: {v}", "Ma carte bancaire est {v}.",
        "Mi tarjeta es {v}.", "カード番号は{v}です。", "信用卡号：{v}", "Номер карты {v}.", "Il numero della carta è {v}.",
    ],
    "US_SSN": [
        "My SSN is {v}.", "Social security number: {v}", "Applicant SSN {v} was verified.", "The form lists {v} as the SSN.",
        "SSN: {v} (please keep this private)", "Employee record: John Doe, SSN {v}, hired 2019.",
        "Número de seguro social: {v}", "Sozialversicherungsnummer (US): {v}",
    ],
    "IBAN": [
        "Please transfer the deposit to {v}.", "IBAN: {v}", "Our bank account is {v} (BIC on the invoice).",
        "Refund to IBAN {v} please.", "Bitte überweisen Sie auf {v}.", "Veuillez virer le montant sur {v}.",
        "Transferencia a la cuenta {v}.", "Bonifico sul conto {v}.", "Rekeningnummer: {v}", "Konto: {v}",
        "送金先IBAN：{v}", "Przelew na konto {v}.",
    ],
    "IP_ADDRESS": [
        "The server at {v} stopped responding.", "Blocked login attempts from {v} overnight.", "Set the DNS to {v}.",
        "ssh admin@{v} failed with timeout", "Der Host {v} ist nicht erreichbar.", "L'adresse IP est {v}.",
        "La IP del router es {v}.", "サーバー{v}に接続できません。", "服务器地址：{v}", "Адрес сервера {v}.",
        "curl http://{v}/health returned 503", "Allowlist {v} in the firewall.",
    ],
    "SECRET": [
        "Here is my API key: {v}", "export OPENAI_API_KEY={v}", "token = \"{v}\"", "Use {v} for the staging account.",
        "Authorization header was: {v}", "Mein API-Schlüssel lautet {v}.", "Ma clé API : {v}", "Mi clave es {v}",
        "APIキーは {v} です。", "密钥：{v}", "Ключ доступа: {v}", "config: api_key: {v}",
    ],
}


def sentence(kind, value):
    return rng.choice(TEMPLATES[kind]).format(v=value)


# --- positive values --------------------------------------------------------------------------

FIRST = ["alice", "bob", "maria", "li.wei", "jean-luc", "o.brien", "sven", "yuki", "priya", "ahmed", "chen", "fatima",
         "j.doe", "anna.schmidt", "mario_rossi", "kim", "noah", "emma", "lucas", "sofia"]
DOMAINS = ["example.com", "mail.example.org", "company.co.uk", "uni-hamburg.de", "corp.example.io", "gmail.com",
           "outlook.fr", "yahoo.co.jp", "web.de", "163.com", "mail.ru", "startup.ai", "health-care.example.net",
           "example.museum", "sub.dept.example.edu", "EXAMPLE.COM", "xn--bcher-kva.example"]


def emails(n):
    out = []
    while len(out) < n:
        local = rng.choice(FIRST)
        if rng.random() < 0.3:
            local += str(rng.randint(1, 999))
        if rng.random() < 0.15:
            local += "+" + rng.choice(["news", "billing", "test"])
        if rng.random() < 0.1:
            local = local.capitalize()
        value = local + "@" + rng.choice(DOMAINS)
        if oracles.valid_email(value) and value not in out:
            out.append(value)
    return out


PHONE_REGIONS = ["US", "CA", "GB", "DE", "FR", "IN", "JP", "AU", "BR", "MX", "ES", "IT", "NL", "CH", "SE", "PL", "CN",
                 "KR", "SG", "ZA", "IE", "NZ", "AT", "BE", "PT", "TR", "AE", "IL", "AR", "HK", "TW", "FI", "NO", "DK",
                 "CZ", "GR"]


def random_valid_number(region):
    kind = rng.choice([PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE])
    example = phonenumbers.example_number_for_type(region, kind)
    national = str(example.national_number)
    for _ in range(50):
        mutated = national[:-4] + rand(string.digits, 4)
        number = phonenumbers.parse("+" + str(example.country_code) + mutated)
        if phonenumbers.is_valid_number(number):
            return number
    return example


def phones(n):
    out = []
    while len(out) < n:
        region = rng.choice(PHONE_REGIONS + ["US"] * 8)
        number = random_valid_number(region)
        if region in ("US", "CA") and rng.random() < 0.75:
            national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)  # (415) 555-2671
            digits = str(number.national_number)
            a, b, c = digits[:3], digits[3:6], digits[6:]
            value = rng.choice([national, f"{a}-{b}-{c}", f"{a}.{b}.{c}", f"{a} {b} {c}", f"+1 {a}-{b}-{c}",
                                f"1-{a}-{b}-{c}", f"+1 ({a}) {b}-{c}", f"+1{digits}"])
        else:
            value = phonenumbers.format_number(number, rng.choice([PhoneNumberFormat.INTERNATIONAL] * 3 + [PhoneNumberFormat.E164]))
        if oracles.valid_phone(value) and value not in out:
            out.append(value)
    # Two formats the brief names explicitly, with the trunk prefix written in.
    out += ["+44 (0)20 7946 0958", "+33 (0)1 42 68 53 00"]
    return out


def luhn_complete(prefix, length):
    body = prefix + rand(string.digits, length - len(prefix) - 1)
    for check_digit in string.digits:
        if oracles.luhn.is_valid(body + check_digit):
            return body + check_digit
    raise AssertionError


CARD_PREFIXES = [("4", 16), ("4", 16), ("4", 13), ("4", 19), ("51", 16), ("55", 16), ("2221", 16), ("2720", 16),
                 ("34", 15), ("37", 15), ("6011", 16), ("65", 16), ("3530", 16), ("36", 14), ("62", 16), ("62", 19),
                 ("2200", 16), ("6759", 16)]


def group_card(digits):
    style = rng.choice(["plain", "space", "dash", "space"])
    if style == "plain":
        return digits
    sep = " " if style == "space" else "-"
    if len(digits) == 15:
        groups = [digits[:4], digits[4:10], digits[10:]]
    elif len(digits) == 14:
        groups = [digits[:4], digits[4:10], digits[10:]]
    elif len(digits) == 13:
        groups = [digits[:4], digits[4:7], digits[7:10], digits[10:]]  # how 13-digit Visa cards are printed
    else:
        groups = [digits[i:i + 4] for i in range(0, len(digits), 4)]
    return sep.join(groups)


def cards(n):
    out = []
    while len(out) < n:
        prefix, length = rng.choice(CARD_PREFIXES)
        value = group_card(luhn_complete(prefix, length))
        if oracles.valid_card(value):
            out.append(value)
    return out


def ssn_parts(valid=True):
    while True:
        area, group, serial = rng.randint(1, 899), rng.randint(1, 99), rng.randint(1, 9999)
        value = f"{area:03d}-{group:02d}-{serial:04d}"
        if oracles.valid_ssn(value) == valid:
            return value


def ssns(n):
    out = []
    while len(out) < n:
        value = ssn_parts()
        style = rng.random()
        if style < 0.2:
            value = value.replace("-", " ")
        out.append(value)
    return out


# Example IBANs (the registry's), used as templates: digits in the BBAN are re-drawn and the
# check digits recomputed, and python-stdnum must accept the result (it checks BBAN formats).
IBAN_EXAMPLES = [
    "DE89370400440532013000", "GB82WEST12345698765432", "FR1420041010050500013M02606", "ES9121000418450200051332",
    "IT60X0542811101000000123456", "NL91ABNA0417164300", "BE68539007547034", "CH9300762011623852957",
    "AT611904300234573201", "PL61109010140000071219812874", "SE4550000000058398257466", "NO9386011117947",
    "DK5000400440116243", "FI2112345600000785", "IE29AIBK93115212345678", "PT50000201231234567890154",
    "LU280019400644750000", "GR1601101250000000012300695", "CZ6508000000192000145399", "HU42117730161111101800000000",
    "RO49AAAA1B31007593840000", "SA0380000000608010167519", "AE070331234567890123456", "TR330006100519786457841326",
    "IL620108000000099999999", "HR1210010051863000160", "SI56263300012039086", "SK3112000000198742637541",
    "LT121000011101001000", "EE382200221020145685", "MT84MALT011000012345MTLCAST001S", "IS140159260076545510730339",
    "BR1800360305000010009795493C1", "QA58DOHB00001234567890ABCDEFG", "UA213223130000026007233566001",
]


def iban_check_digits(country, bban):
    rearranged = bban + country + "00"
    number = int("".join(str(int(c, 36)) for c in rearranged))
    return f"{98 - number % 97:02d}"


def make_iban(example):
    country, bban = example[:2], example[4:]
    for _ in range(100):
        new_bban = "".join(rng.choice(string.digits) if c.isdigit() else c for c in bban)
        value = country + iban_check_digits(country, new_bban) + new_bban
        if oracles.stdnum_iban.is_valid(value):
            return value
    return example


def spaced(value):
    return " ".join(value[i:i + 4] for i in range(0, len(value), 4))


def ibans(n):
    out = []
    while len(out) < n:
        value = make_iban(rng.choice(IBAN_EXAMPLES))
        if rng.random() < 0.55:
            value = spaced(value)
        if oracles.valid_iban(value) and value not in out:
            out.append(value)
    return out


def ips(n):
    out = []
    while len(out) < n:
        kind = rng.random()
        if kind < 0.45:
            value = ".".join(str(rng.randint(1, 254)) for _ in range(4))
        elif kind < 0.6:
            prefix = rng.choice(["10.", "192.168.", "172.16."])
            value = prefix + ".".join(str(rng.randint(0, 254)) for _ in range(3 - prefix.count(".") + 1))
        else:
            address = oracles.ipaddress.IPv6Address(rng.getrandbits(128))
            style = rng.random()
            if style < 0.3:
                value = address.exploded
            elif style < 0.6:
                value = f"2001:db8:{rng.randint(0, 0xffff):x}::{rng.randint(1, 0xffff):x}"
            elif style < 0.7:
                value = f"::ffff:{rng.randint(1, 254)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            elif style < 0.8:
                value = f"fe80::{rng.randint(1, 0xffff):x}:{rng.randint(1, 0xffff):x}"
            else:
                value = address.compressed
        if oracles.valid_ip(value) and value not in out:
            out.append(value)
    return out + ["::1", "8.8.8.8", "0.0.0.0", "255.255.255.255"]


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def jwt():
    header = b64url(json.dumps({"alg": rng.choice(["HS256", "RS256"]), "typ": "JWT"}).encode())
    payload = b64url(json.dumps({"sub": str(rng.randint(1000, 99999)), "name": rng.choice(FIRST), "iat": 1700000000 + rng.randint(0, 10**7)}).encode())
    return f"{header}.{payload}.{b64url(bytes(rng.getrandbits(8) for _ in range(32)))}"


def secrets_list(n):
    makers = [
        lambda: "sk-" + rand(B62, 48),
        lambda: "sk-proj-" + rand(B62 + "_-", 64),
        lambda: "sk-ant-api03-" + rand(B62 + "_-", 93) + "AA",
        lambda: "ghp_" + rand(B62, 36),
        lambda: "gho_" + rand(B62, 36),
        lambda: "github_pat_" + rand(B62, 22) + "_" + rand(B62, 59),
        lambda: "xoxb-" + rand(string.digits, 12) + "-" + rand(string.digits, 13) + "-" + rand(B62, 24),
        lambda: "xoxp-" + rand(string.digits, 12) + "-" + rand(string.digits, 12) + "-" + rand(B62, 32),
        lambda: "AKIA" + rand(string.ascii_uppercase + string.digits, 16),
        lambda: "AIza" + rand(B62 + "_-", 35),
        lambda: "glpat-" + rand(B62 + "_-", 20),
        lambda: "tg-" + b64url(bytes(rng.getrandbits(8) for _ in range(24))),
        lambda: "sk_live_" + rand(B62, 24),
        lambda: "hf_" + rand(B62, 34),
        jwt,
        lambda: rand(B62, rng.randint(32, 48)),  # generic key in an assignment
        lambda: b64url(bytes(rng.getrandbits(8) for _ in range(30))),
    ]
    out = []
    while len(out) < n:
        value = rng.choice(makers)()
        if oracles.valid_secret(value) and any(c.isdigit() for c in value):
            out.append(value)
    return out


# --- look-alike negatives --------------------------------------------------------------------

def negatives():
    """(text, tags) that contain nothing to find."""
    cases = []

    def add(text, *tags):
        cases.append((text, ["negative", *tags]))

    for _ in range(6):
        add(f"The meeting moved to {rng.randint(2020, 2027)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} at {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.", "date", "time")
    add("Release 2.14.3 fixes the crash; 2.14.4 is planned for 15.01.2025.", "version")
    add("Upgrade to v1.2.3.4 before the cutover.", "version", "policy:version-context")
    add("We run version 10.0.0.1 of the agent on every node.", "version", "policy:version-context")
    add("Build 4.1.2.9 passed all checks.", "version", "policy:version-context")
    add("Windows 10.0.19041.1234 and Chrome 120.0.6099.109 are supported.", "version")
    add("The OID is 1.3.6.1.4.1.2021.10.1 in the MIB.", "oid")
    add("Invalid addresses like 999.1.1.1, 256.10.10.10 and 1.2.3.4.5 are rejected.", "ip-lookalike")
    add("Octets with leading zeros such as 010.001.002.003 are ambiguous.", "ip-lookalike")
    add("See section 3.2.1.4 of the RFC for details.", "policy:section-number")
    for _ in range(4):
        mac = ":".join(f"{rng.randint(0, 255):02X}" for _ in range(6))
        add(f"The NIC's MAC address is {mac}.", "mac")
    add("Device 00-1A-2B-3C-4D-5E joined the network.", "mac")
    add("The train leaves at 12:30:45 and arrives at 14:05.", "time")
    add("Use std::vector and std::map in C++ code; a::b is a scope.", "code")
    add("Ratio was 3:2:1 and the score 10:8.", "time")
    for _ in range(5):
        add(f"Your order total is ${rng.randint(10, 9999):,}.{rng.randint(0, 99):02d} incl. tax.", "price")
    add("Prix : 1 299,99 € TTC, livraison 4,90 €.", "price")
    add("The office ZIP code is 94105-1234; the old one was 10001.", "zip")
    add("Ship to Springfield, IL 62704-5678.", "zip")
    for _ in range(4):
        add(f"Order #{rng.randint(200, 999)}-{rng.randint(200, 999)}-{rng.randint(1000, 9999)} has shipped.", "reference", "policy:reference-number")
    add("Invoice no. 415-555-2671 is overdue.", "reference", "policy:reference-number")
    add("Ticket 212-555-0147 was closed yesterday.", "reference", "policy:reference-number")
    add("Tracking number: 1Z999AA10123456784", "reference")
    add("ISBN 978-3-16-148410-0 and ISBN 0-306-40615-2 are in stock.", "isbn")
    add("Call (123) 456-7890 — that area code does not exist.", "phone-lookalike")
    add("Dial +1 555 01 for nothing; +49 30 is only a prefix.", "phone-lookalike")
    add("The temperature rose +12.5% to +25.3 degrees.", "price")
    add("Coordinates 52.5200, 13.4050 mark the spot.", "coordinates")
    for _ in range(5):
        digits = "4" + rand(string.digits, 15)
        while oracles.luhn.is_valid(digits):
            digits = "4" + rand(string.digits, 15)
        add(f"Card {spaced(digits)} was declined (it fails the checksum).", "card-lookalike")
    for _ in range(3):
        digits = luhn_complete("9", 16)
        add(f"Loyalty number {digits} earns points.", "card-lookalike")
    add("IMEI 490154203237518 belongs to the lost phone.", "card-lookalike")
    add("Reference 12345678901234567890123 is a 23-digit id.", "digits")
    for _ in range(4):
        good = make_iban(rng.choice(IBAN_EXAMPLES))
        check_digits = int(good[2:4])
        bad = good[:2] + f"{(check_digits + rng.randint(1, 50)) % 97 + 2:02d}" + good[4:]
        if not oracles.valid_iban(bad):
            add(f"The IBAN {spaced(bad)} has a wrong check digit.", "iban-lookalike")
    add("Country code XX12 3456 7890 1234 56 is not an IBAN.", "iban-lookalike")
    for area in ["000", "666", "900", "987"]:
        add(f"Test SSN {area}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)} is invalid.", "ssn-lookalike")
    add("SSN 123-00-4567 has a zero group and 123-45-0000 a zero serial.", "ssn-lookalike")
    add("Tracking id 123456789 is nine digits but not an SSN.", "ssn-lookalike")
    add("The famous 078-05-1120 from the wallet insert is not valid.", "ssn-lookalike")
    for text in ["Ping me at user@localhost for the local test.", "Follow @tollgate_dev and @alice on X.",
                 "a@b is not an address, nor is foo@bar.", "Email me at name [at] example [dot] com.",
                 "The decorator @dataclass and @MainActor are annotations.", "user@192 is incomplete."]:
        add(text, "email-lookalike")
    for _ in range(5):
        add(f"Request id {uuid.UUID(int=rng.getrandbits(128), version=4)} failed.", "uuid")
    for _ in range(5):
        add(f"Fixed in commit {hashlib.sha1(str(rng.random()).encode()).hexdigest()}.", "git-sha", "policy:hex-digest")
    for _ in range(3):
        add(f"SHA-256: {hashlib.sha256(str(rng.random()).encode()).hexdigest()}", "digest", "policy:hex-digest")
    add("docker pull nginx@sha256:" + hashlib.sha256(b"nginx").hexdigest(), "digest", "policy:hex-digest")
    for word in ["getUserAccountSettingsByIdentifierAsync", "AbstractSingletonProxyFactoryBeanConfiguration",
                 "Donaudampfschifffahrtsgesellschaftskapitaen", "supercalifragilisticexpialidocious_version_2",
                 "this-is-a-very-long-kebab-case-slug-for-2024", "CUSTOMER_ORDER_PAYMENT_SERVICE_HANDLER_V2",
                 "Rindfleischetikettierungsueberwachungsaufgabenuebertragungsgesetz", "test_user_account_creation_with_valid_email_2"]:
        add(f"The identifier {word} appears in the logs.", "identifier")
    for prose in ["Hello world, this is a test message.", "The quick brown fox jumps over the lazy dog",
                  "Meeting notes: ship the guardrails feature next week"]:
        add(f"Decoded payload: {base64.b64encode(prose.encode()).decode().rstrip('=')}", "base64-text", "policy:base64-text")
    add("See https://docs.example.com/guides/authentication/getting-started-with-api-keys?ref=sidebar for help.", "url")
    add("Download from https://github.com/apple/swift-nio/releases/tag/2.101.2 today.", "url")
    add("The path /var/lib/tollgate/recordings/2024/01/15/requests-part-0001.parquet is large.", "path")
    add("pip install scikit-learn; some write sk-learn or sk-learn-intro-tutorial in notes.", "secret-lookalike")
    add("Set Authorization: Bearer YOUR_ACCESS_TOKEN_HERE in the request.", "secret-lookalike")
    add("AKIA prefixes start AWS keys, e.g. AKIA followed by sixteen characters.", "secret-lookalike")
    add("The key looks like sk-... and is never logged.", "secret-lookalike")
    multilingual = [
        "会議は2024年1月15日 14:30に始まります。価格は¥1,200です。", "订单金额为￥3,299.00，预计3-5天送达。",
        "Встреча назначена на 15.01.2024 в 10:30, версия 2.3.1.", "La réunion est prévue le 15/01/2024 à 9h30.",
        "Die Version 3.2.1 erscheint am 01.02.2025 um 12:00 Uhr.", "El precio es de 1.299,99 € con IVA.",
        "आज की तारीख 15-01-2024 है और समय 10:45 है।", "회의는 2024-01-15 오후 3:30에 시작합니다.",
        "Toplantı 15.01.2024 saat 09:00'da; fiyat 1.250,00 TL.", "Spotkanie 15.01.2024 o 10:30, wersja 1.4.2.",
        "الاجتماع يوم 2024-01-15 الساعة 10:30.", "Emoji test 🎉👍🏽 with combining é and ñ, no PII here.",
    ]
    for text in multilingual:
        add(text, "multilingual")
    return cases


# --- realistic documents: several entities among many distractors -----------------------------

def hexs(n):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def iso_time():
    return f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}Z"


def aws_secret():
    return rand(B62 + "+/", 40)


def documents(pools):
    cases = []
    v4 = [ip for ip in pools["IP_ADDRESS"] if "." in ip and ":" not in ip]

    def add(text, entities, *tags):
        cases.append({"text": text, "entities": [{"type": t, "value": v} for t, v in entities], "tags": ["positive", "document", *tags]})

    for _ in range(25):
        email, ip = rng.choice(pools["EMAIL"]), rng.choice(v4)
        text = (f"{iso_time()} INFO [req {uuid.UUID(int=rng.getrandbits(128), version=4)}] user={email} ip={ip} "
                f"latency={rng.randint(3, 900)}ms status={rng.choice([200, 201, 404, 500])} trace_id={hexs(32)} span_id={hexs(16)}")
        add(text, [("EMAIL", email), ("IP_ADDRESS", ip)], "log")
    for _ in range(15):
        email, phone = rng.choice(pools["EMAIL"]), rng.choice(pools["PHONE_NUMBER"])
        text = json.dumps({"id": "cus_" + rand(B62, 14), "email": email, "phone": phone, "created": 1700000000 + rng.randint(0, 10**7),
                           "balance": rng.randint(0, 99999), "currency": "usd", "invoice_prefix": rand(string.ascii_uppercase + string.digits, 8),
                           "metadata": {"plan": "pro", "seats": rng.randint(1, 50), "renewal": "2025-06-30"}}, ensure_ascii=False)
        add(text, [("EMAIL", email), ("PHONE_NUMBER", phone)], "json")
    for _ in range(12):
        key_id, secret = "AKIA" + rand(string.ascii_uppercase + string.digits, 16), aws_secret()
        if not any(c.isdigit() for c in secret):
            continue
        text = f"AWS_ACCESS_KEY_ID={key_id}\nAWS_SECRET_ACCESS_KEY={secret}\nAWS_REGION=us-east-1\nLOG_LEVEL=debug\nWORKERS=4"
        add(text, [("SECRET", key_id), ("SECRET", secret)], "env", "labelled-secret")
    for _ in range(10):
        secret = rng.choice([rand(B62, 32), hexs(40), rand(B62 + "-_", 48)])
        if not any(c.isdigit() for c in secret) or not any(c.isalpha() for c in secret):
            continue
        name = rng.choice(["client_secret", "db_password", "webhookSecret", "refresh_token", "PRIVATE_KEY_PASSPHRASE", "api-key"])
        text = rng.choice([f'{{"client_id": "app-{rng.randint(100, 999)}", "{name}": "{secret}", "redirect_uri": "https://app.example.com/callback"}}',
                           f"{name}: {secret}\ntimeout_seconds: 30\nretries: 3",
                           f"settings.{name} = '{secret}'  # rotated 2024-05-01"])
        add(text, [("SECRET", secret)], "config", "labelled-secret")
    for _ in range(10):
        key = rng.choice(pools["SECRET"][:40])
        if rng.random() < 0.5:
            add(f'client = OpenAI(base_url="http://127.0.0.1:8080/v1", api_key="{key}")\nprint(client.models.list())',
                [("IP_ADDRESS", "127.0.0.1"), ("SECRET", key)], "code")
        else:
            add(f"headers = {{'Authorization': 'Bearer {key}', 'Content-Type': 'application/json'}}", [("SECRET", key)], "code")
    for _ in range(8):
        card, email = rng.choice(pools["CREDIT_CARD"]), rng.choice(pools["EMAIL"])
        text = (f"Hi support,\n\nI was charged twice on {rng.randint(1, 28)}/{rng.randint(1, 12)}/2024 for order A-{rng.randint(10000, 99999)} "
                f"(total $1,{rng.randint(100, 999)}.{rng.randint(10, 99)}). The card was {card}. Please reply to {email}.\n\nThanks")
        add(text, [("CREDIT_CARD", card), ("EMAIL", email)], "email-body")
    for _ in range(8):
        iban, phone = rng.choice(pools["IBAN"]), rng.choice(pools["PHONE_NUMBER"])
        text = (f"Rechnung Nr. 2024-{rng.randint(100, 999)} vom 15.03.2024\nBetrag: {rng.randint(10, 999)},{rng.randint(10, 99)} EUR\n"
                f"Bitte überweisen Sie auf {iban} (BIC COBADEFFXXX).\nRückfragen: {phone}")
        add(text, [("IBAN", iban), ("PHONE_NUMBER", phone)], "invoice")
    return cases


def document_negatives():
    cases = []

    def add(text, *tags):
        cases.append({"text": text, "entities": [], "tags": ["negative", "document", *tags]})

    for _ in range(8):
        add(json.dumps({"id": "chatcmpl-" + rand(B62, 29), "object": "chat.completion", "created": 1700000000 + rng.randint(0, 10**7),
                        "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_" + hexs(10),
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris is the capital of France."}}],
                        "usage": {"prompt_tokens": rng.randint(5, 500), "completion_tokens": rng.randint(5, 500)}}), "api-response")
    for _ in range(5):
        add(f'{{"id": "chatcmpl-{hexs(32)}", "request_id": "{uuid.UUID(int=rng.getrandbits(128), version=4)}", "resp": "resp_{hexs(32)}"}}', "tollgate-ids")
    for _ in range(5):
        add(f'{{"id": "msg_01{rand(B62, 22)}", "type": "message", "content": [{{"type": "tool_use", "id": "toolu_01{rand(B62, 22)}"}}]}}', "api-response")
    for _ in range(4):
        add(f"Send ETH to 0x{hexs(40)} only on mainnet.", "policy:hex-digest")
    add("\"integrity\": \"sha512-" + base64.b64encode(bytes(rng.getrandbits(8) for _ in range(64))).decode() + "\"", "integrity")
    for _ in range(3):
        add('<img src="data:image/png;base64,' + base64.b64encode(bytes(rng.getrandbits(8) for _ in range(180))).decode() + '">', "data-uri")
    add("| date       | requests | errors | p99    | version |\n|------------|----------|--------|--------|---------|\n"
        "| 2024-01-15 | 1,234,567 | 0.12% | 412 ms | v2.3.1 |\n| 2024-01-16 | 987,654 | 0.09% | 388 ms | v2.3.2 |", "table")
    add("pod api-server-7d4b9c8f6d-x2k9p on node ip-10-0-12-34.ec2.internal restarted 3 times", "k8s")
    add("DATABASE_URL=postgres://app@db.internal:5432/app?sslmode=require", "url-userinfo", "policy:url-userinfo")
    add("for (int i = 0; i < 10; i++) { total += prices[i] * 1.08; } // 2024-01-15", "code")
    add("git log --oneline: a1b2c3d Fix login; 9f8e7d6 Bump version to 4.2.0; merged PR #1234", "git")
    add("Stack trace at com.example.service.UserAccountService.updateUserAccountSettings(UserAccountService.java:142)", "stacktrace")
    add("Our Q3 revenue was 12,345,678.90 USD, up 4.5% from 11,812,345.67 USD.", "numbers")
    return cases


# --- assembly --------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args()

    counts = {"EMAIL": 70, "PHONE_NUMBER": 90, "CREDIT_CARD": 65, "US_SSN": 55, "IBAN": 65, "IP_ADDRESS": 70, "SECRET": 80}
    makers = {"EMAIL": emails, "PHONE_NUMBER": phones, "CREDIT_CARD": cards, "US_SSN": ssns, "IBAN": ibans,
              "IP_ADDRESS": ips, "SECRET": secrets_list}
    pools = {kind: makers[kind](n) for kind, n in counts.items()}

    cases = []
    for kind, values in pools.items():
        for value in values:
            cases.append({"text": sentence(kind, value), "entities": [{"type": kind, "value": value}],
                          "tags": ["positive", kind.lower()]})
    # Bare nine-digit SSNs right after an SSN label.
    for _ in range(8):
        value = ssn_parts().replace("-", "")
        cases.append({"text": rng.choice(["SSN: {v}", "ssn {v} on file", "Social Security Number {v}", "SSN#{v}"]).format(v=value),
                      "entities": [{"type": "US_SSN", "value": value}], "tags": ["positive", "us_ssn", "policy:bare-ssn-with-label"]})
    # Bearer tokens: the token is the secret, `Bearer ` stays.
    for _ in range(8):
        token = rng.choice([jwt(), rand(B62 + "-_", 40), "tg-" + b64url(bytes(rng.getrandbits(8) for _ in range(24)))])
        cases.append({"text": f"curl -H 'Authorization: Bearer {token}' https://api.example.com/v1/models",
                      "entities": [{"type": "SECRET", "value": token}], "tags": ["positive", "secret", "bearer"]})
    # Several entities in one message.
    kinds = list(pools)
    for _ in range(45):
        picked = rng.sample(kinds, rng.randint(2, 3))
        entities = [{"type": k, "value": rng.choice(pools[k])} for k in picked]
        parts = [sentence(e["type"], e["value"]) for e in entities]
        cases.append({"text": " ".join(parts), "entities": entities, "tags": ["positive", "multi"]})
    cases += documents(pools)
    cases += document_negatives()
    for text, tags in negatives():
        cases.append({"text": text, "entities": [], "tags": tags})
    with open(os.path.join(HERE, "tricky.jsonl"), encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                case = json.loads(line)
                case.setdefault("tags", []).insert(0, "tricky")
                cases.append(case)

    problems = check.check_cases(cases)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)
    with open(args.out, "w", encoding="utf-8") as handle:
        for case in cases:
            handle.write(json.dumps(case, ensure_ascii=False) + "\n")
    print(f"wrote {len(cases)} cases to {os.path.relpath(args.out)}")


if __name__ == "__main__":
    main()
