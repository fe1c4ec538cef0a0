"""A throwaway certificate authority for tests, made with the `openssl` command line in a temp dir.

    ca = TestCA(directory)                      # root CA + one intermediate, EC P-256, valid 2 days
    leaf = ca.issue("hs1")                      # for localhost and 127.0.0.1 (subjectAltName)
    leaf.chain_path, leaf.key_path              # PEM: the leaf then the intermediate; its key
    leaf.serial, leaf.fingerprint               # to recognise the certificate a server presents
    ca.client_context()                         # ssl.SSLContext trusting only this CA's root

Clients trust `ca.root_path` only, so a server that forgets the intermediate in its chain fails the handshake,
as it would on the federation.
"""
import hashlib
import itertools
import os
import ssl
import subprocess

OPENSSL = "openssl"
_serials = itertools.count(int.from_bytes(os.urandom(4), "big") << 16)


def _run(*args, cwd):
    result = subprocess.run([OPENSSL, *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed: {result.stderr}")
    return result.stdout


def pem_fingerprint(pem_text):
    """SHA-256 of the DER form of the first certificate in a PEM text, as lowercase hex."""
    start = pem_text.index("-----BEGIN CERTIFICATE-----")
    end = pem_text.index("-----END CERTIFICATE-----", start) + len("-----END CERTIFICATE-----")
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem_text[start:end])).hexdigest()


class Leaf:
    def __init__(self, cert_path, chain_path, key_path, serial):
        self.cert_path = cert_path    # the leaf alone
        self.chain_path = chain_path  # the leaf, then the intermediate: what a server presents
        self.key_path = key_path
        self.serial = serial          # int
        with open(cert_path) as f:
            self.fingerprint = pem_fingerprint(f.read())


class TestCA:
    def __init__(self, directory, name="Herald Test CA"):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.root_path = os.path.join(directory, "ca.crt")
        self.root_key = os.path.join(directory, "ca.key")
        _run("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", self.root_key, "-out", self.root_path, "-days", "2", "-subj", f"/CN={name}",
             "-set_serial", str(next(_serials)),
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-addext", "subjectKeyIdentifier=hash", cwd=directory)
        self.intermediate_path = os.path.join(directory, "intermediate.crt")
        self.intermediate_key = os.path.join(directory, "intermediate.key")
        self._sign(f"{name} Intermediate", self.intermediate_key, self.intermediate_path, self.root_path,
                   self.root_key, "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n")

    def _sign(self, common_name, key_path, cert_path, issuer_cert, issuer_key, extensions):
        csr = cert_path + ".csr"
        ext = cert_path + ".ext"
        with open(ext, "w") as f:
            f.write("[v3]\n" + extensions + "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
        serial = next(_serials)
        _run("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key_path,
             "-out", csr, "-subj", f"/CN={common_name}", cwd=self.dir)
        _run("x509", "-req", "-in", csr, "-CA", issuer_cert, "-CAkey", issuer_key, "-set_serial", str(serial),
             "-days", "2", "-sha256", "-extfile", ext, "-extensions", "v3", "-out", cert_path, cwd=self.dir)
        os.remove(csr)
        os.remove(ext)
        return serial

    def issue(self, name, hosts=("localhost", "127.0.0.1", "::1"), directory=None):
        """A server certificate for `hosts` (names and IP addresses) signed by the intermediate. Files go to
        `directory` (default: the CA's) as <name>.crt (leaf), <name>.chain.pem (leaf + intermediate) and
        <name>.key; issuing the same name again replaces them (a renewal)."""
        directory = directory or self.dir
        names = ",".join(("IP:" if _is_ip(h) else "DNS:") + h for h in hosts)
        cert_path = os.path.join(directory, name + ".crt")
        key_path = os.path.join(directory, name + ".key")
        chain_path = os.path.join(directory, name + ".chain.pem")
        # Written beside and renamed into place, so a server reloading at that moment sees old or new.
        serial = self._sign(name, key_path + ".new", cert_path + ".new", self.intermediate_path, self.intermediate_key,
                            f"basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                            f"extendedKeyUsage=serverAuth\nsubjectAltName={names}\n")
        with open(cert_path + ".new") as leaf, open(self.intermediate_path) as intermediate, \
                open(chain_path + ".new", "w") as chain:
            chain.write(leaf.read() + intermediate.read())
        os.chmod(key_path + ".new", 0o600)
        for path in (cert_path, key_path, chain_path):
            os.replace(path + ".new", path)
        return Leaf(cert_path, chain_path, key_path, serial)

    def client_context(self, minimum=None, maximum=None):
        """An SSLContext that verifies servers against this CA only (and their names)."""
        ctx = ssl.create_default_context(cafile=self.root_path)
        if minimum:
            ctx.minimum_version = minimum
        if maximum:
            ctx.maximum_version = maximum
        return ctx


def _is_ip(host):
    import ipaddress
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False
