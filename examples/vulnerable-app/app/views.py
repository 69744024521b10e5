"""A deliberately vulnerable Flask-style app for sluice's examples. Every credential is fake."""
import hashlib
import os
import pickle
import subprocess

import requests

# Fake key: the shape of a real AWS access key pair, never issued by AWS.
AWS_ACCESS_KEY_ID = "AKIAQ3EGRT5MZXKY7P2W"
AWS_SECRET_ACCESS_KEY = "k9Jx2Lq7Vn4Rt8Wz1Yb6Hc3Fd5Gs0Pm2Ua7Ne4Qz"

# Looked up at run time: not a secret in the source.
DATABASE_PASSWORD = os.environ["DATABASE_PASSWORD"]


def ping(host):
    # Command injection: the host comes from the request.
    return subprocess.run("ping -c 1 " + host, shell=True, capture_output=True)


def load_profile(blob):
    # Insecure deserialization of user data.
    return pickle.loads(blob)


def password_hash(password):
    # Weak hash for passwords.
    return hashlib.md5(password.encode()).hexdigest()


def fetch(url):
    # TLS verification disabled.
    return requests.get(url, verify=False, timeout=5)


def calculate(expression):
    return eval(expression)
