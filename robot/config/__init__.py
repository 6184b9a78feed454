"""Configuration: settings from the environment and `.env`, the organizations file, shards.

Pure: no browser, no network. Every problem raises `BadInput` with one line that names the field (and,
for a file, the file and line) and says how to fix it, before any browser starts.
"""
from .files import MAX_INPUT_BYTES, InputFileError, load_yaml, load_yaml_file, read_text
from .plan import OrgSpec, Plan, load_plan
from .settings import ENV_VARS, default_state_dir, load_settings, read_env_file
from .shards import parse_shard, select_orgs, shard_of
from .values import normalize_totp_secret

__all__ = [
    "ENV_VARS", "MAX_INPUT_BYTES", "InputFileError", "OrgSpec", "Plan", "default_state_dir", "load_plan",
    "load_settings", "load_yaml", "load_yaml_file", "normalize_totp_secret", "parse_shard", "read_env_file",
    "read_text", "select_orgs", "shard_of",
]
