"""Shared helpers for the supplysec benchmark scripts.

Run with Debian's /usr/bin/python3 (python3-grpcio, python3-protobuf). The
message classes are generated at run time with protoc into a temp dir.
"""

import atexit
import importlib
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


class Protos:
    pass


def protos(out_dir=None):
    """Generate proto/supplysec/v1/*.proto into out_dir (a temp dir by default)
    and import them. Returns an object with .common, .orgs, .keys, .timestamp."""
    out = out_dir
    if not out:
        out = tempfile.mkdtemp(prefix="supplysec-bench-gen-")
        atexit.register(shutil.rmtree, out, True)
    v1 = os.path.join("proto", "supplysec", "v1")
    files = sorted(os.path.join(v1, f) for f in os.listdir(os.path.join(REPO, v1))
                   if f.endswith(".proto"))
    r = subprocess.run(["protoc", "-I", "proto", "-I", "/usr/include",
                        "--python_out=" + out] + files,
                       cwd=REPO, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("protoc failed (%d): %s" % (r.returncode, r.stderr))
    sys.path.insert(0, out)
    p = Protos()
    p.common = importlib.import_module("supplysec.v1.common_pb2")
    p.orgs = importlib.import_module("supplysec.v1.organizations_pb2")
    p.keys = importlib.import_module("supplysec.v1.api_keys_pb2")
    from google.protobuf import timestamp_pb2
    p.timestamp = timestamp_pb2
    return p


def method(chan, path, req_cls, resp_cls):
    return chan.unary_unary(path, request_serializer=req_cls.SerializeToString,
                            response_deserializer=resp_cls.FromString)


def auth(secret):
    return (("authorization", "Bearer " + secret),)


def grpc_frame(msg):
    """gRPC length-prefixed message: flag 0 (uncompressed), 4-byte big-endian
    length, then the serialized protobuf."""
    data = msg.SerializeToString()
    return struct.pack(">BI", 0, len(data)) + data


def wait_ready(chan, timeout=15.0):
    grpc.channel_ready_future(chan).result(timeout=timeout)


# --------------------------------------------------------------------------
# Realistic organization documents
# --------------------------------------------------------------------------

COUNTRIES = {
    # code: (legal-form suffixes, customs authorities, city words)
    "DE": (["GmbH", "AG", "GmbH & Co. KG", "SE"],
           ["Hauptzollamt Hamburg", "Hauptzollamt Bremen", "Hauptzollamt Frankfurt am Main"],
           ["Hamburg", "Bremen", "Nord", "Rhein", "Elbe", "Main"]),
    "NL": (["B.V.", "N.V."],
           ["Douane Rotterdam Rijnmond", "Douane Schiphol"],
           ["Rotterdam", "Maas", "Holland", "Delta", "Amstel"]),
    "BE": (["NV", "BV", "SA"],
           ["Douane Antwerpen", "Douane Zeebrugge"],
           ["Antwerp", "Schelde", "Flanders", "Brabant"]),
    "FR": (["SAS", "SA", "SARL"],
           ["Direction régionale des douanes du Havre", "Direction régionale de Marseille"],
           ["Havre", "Seine", "Provence", "Atlantique", "Rhône"]),
    "IT": (["S.p.A.", "S.r.l."],
           ["Agenzia delle Dogane Genova", "Agenzia delle Dogane La Spezia"],
           ["Genova", "Liguria", "Adriatica", "Tirrena"]),
    "ES": (["S.A.", "S.L."],
           ["Aduana de Valencia", "Aduana de Algeciras"],
           ["Valencia", "Iberia", "Mediterráneo", "Levante"]),
    "PL": (["Sp. z o.o.", "S.A."],
           ["Izba Administracji Skarbowej w Gdańsku"],
           ["Gdańsk", "Bałtyk", "Wisła", "Pomorze"]),
    "SE": (["AB"], ["Tullverket Göteborg"], ["Göteborg", "Nordic", "Kattegat"]),
    "US": (["Inc.", "LLC", "Corp."],
           ["U.S. Customs and Border Protection"],
           ["Atlantic", "Pacific", "Gulf", "Liberty", "Harbor"]),
    "CN": (["Co., Ltd."], ["Shanghai Customs District", "Shenzhen Customs District"],
           ["Shanghai", "Pearl River", "Yangtze", "Ningbo"]),
    "JP": (["K.K.", "Co., Ltd."], ["Yokohama Customs", "Kobe Customs"],
           ["Yokohama", "Kobe", "Pacific", "Kanto"]),
    "GB": (["Ltd", "PLC"], ["HM Revenue & Customs"],
           ["Thames", "Felixstowe", "Albion", "Humber"]),
}
TRADES = ["Logistics", "Freight", "Shipping", "Trading", "Components", "Forwarding",
          "Transport", "Terminals", "Warehousing", "Industries", "Maritime", "Cargo"]
BODIES = ["TÜV SÜD", "Bureau Veritas", "DNV", "SGS", "Lloyd's Register", "DEKRA Certification"]
DAY = 86400
# 2023-01-01T00:00:00Z
EPOCH_2023 = 1672531200


def organization(p, rng, i):
    """A realistic operator document (country, identifiers, 2 supply-chain
    roles, 1-2 certificates with validity dates) for sequence number i."""
    cc = rng.choice(sorted(COUNTRIES))
    forms, customs, words = COUNTRIES[cc]
    legal = "%s %s %s" % (rng.choice(words), rng.choice(TRADES), rng.choice(forms))
    O = p.orgs
    ids = O.Identifiers(eori="%s%012d" % (cc, rng.randrange(10 ** 12)),
                        aeo_authorisation_number="%sAEOF%010d" % (cc, rng.randrange(10 ** 10)),
                        aeo_type=O.AEO_TYPE_AEOF)
    if cc == "US":
        ids.ctpat_account = "%d" % rng.randrange(10 ** 7, 10 ** 8)
    roles = rng.sample(range(1, 9), 2)
    certs = []
    start = EPOCH_2023 + rng.randrange(0, 700) * DAY
    certs.append(O.Certificate(
        type=O.CERTIFICATE_TYPE_AEO, issuer=rng.choice(customs),
        number=ids.aeo_authorisation_number,
        valid_from=p.timestamp.Timestamp(seconds=start),
        valid_until=p.timestamp.Timestamp(seconds=start + 5 * 365 * DAY)))
    if rng.random() < 0.5:
        s2 = EPOCH_2023 + rng.randrange(0, 700) * DAY
        certs.append(O.Certificate(
            type=rng.choice([O.CERTIFICATE_TYPE_ISO_28000, O.CERTIFICATE_TYPE_TAPA,
                             O.CERTIFICATE_TYPE_ISO_28001]),
            issuer=rng.choice(BODIES), number="CERT-%s-%07d" % (cc, rng.randrange(10 ** 7)),
            valid_from=p.timestamp.Timestamp(seconds=s2),
            valid_until=p.timestamp.Timestamp(seconds=s2 + 3 * 365 * DAY)))
    return O.Organization(legal_name=legal, country_code=cc,
                          kind=O.ORGANIZATION_KIND_OPERATOR, identifiers=ids,
                          supply_chain_roles=roles, certificates=certs)


def rng(seed=28000):
    return random.Random(seed)
