"""The wording switch (`SandboxOptions.wording`): the sign-in pages (Microsoft, Terraform Cloud, HCP) and the pages
the robot reads values from, in other words with the same meaning. The live sites change their words more
often than anything else; a person reads each of these at once.

  plain     the words the sandbox always used (the docs images depend on them)
  reworded  the same meanings as a person reads them: other case and punctuation, articles and possessives, a
            trailing colon, a word of context, another member of a family of words ("One-time code", "Sign in
            with your passkey", "Email address"), labels written "Label: value"
  signals   the sign-in fields and buttons in words the robot has never seen, as hosted login pages word
            them: the fields are known only by the signals browsers and password managers rely on
            (`autocomplete` tokens, input types), the buttons not at all (Enter submits a form); the other
            pages as in reworded

Templates call `w("the plain words")`: the words of the chosen wording, or the plain ones where it has none.
"""
from __future__ import annotations

WORDINGS = ("plain", "reworded", "signals")

_REWORDED: dict[str, str] = {
    # Microsoft sign-in
    "Sign in": "Sign in",
    "Enter your email, phone, or Skype.": "Your email, phone or Skype:",
    "Email, phone, or Skype": "Your email, phone or Skype",
    "Next": "Next step",
    "Enter password": "Enter your password",
    "Password": "Your password:",
    "Approve sign in request": "Approve the sign-in request",
    "Sign in another way": "Sign in another way",
    "Verify your identity": "Choose a way to sign in",
    "Use a verification code": "Use a one-time code",
    "Enter code": "Enter your one-time code",
    "Code": "One-time code",
    "Verify": "Verify code",
    "Stay signed in?": "Stay signed in",
    "Pick an account": "Choose an account",
    "Use another account": "Sign in with another account",
    "Use your passkey": "Sign in with your passkey",
    "Other ways to sign in": "More ways to sign in",
    "Use your password": "Use your password instead",
    "Improve your sign-ins": "Improve your sign-ins!",
    "Not now": "Maybe later",
    "Ask later": "Ask me later",
    "You cannot access this right now": "Sorry, you cannot access this right now",
    "Your account has been locked": "Your account has been locked.",
    # Terraform Cloud sign-in
    "Username or email": "Email or username:",
    "Authentication code": "One-time code",
    "Two-factor authentication": "Verify your identity",
    # HCP sign-in
    "Email": "Email address",
    "Continue": "Continue",
    # Azure DevOps organization settings > Microsoft Entra (its sentences are not public)
    "Microsoft Entra": "Organization settings | Microsoft Entra ID",
    "{org} is connected to the {directory} directory.": "{org} uses the Microsoft Entra ID tenant {directory}.",
    "{org} is not connected to a Microsoft Entra directory.": "No Microsoft Entra ID tenant is linked to {org} yet.",
    # Microsoft Entra admin center (blades are titled "<menu> | <item>"; an empty search says so its own way)
    "Consent and permissions": "Consent and permissions | User consent settings",
    "No applications found.": "No applications",
    # values the robot reads
    "App ID": "Your App ID:",
    "Client Secret": "Client secret:",
    "Authorized scopes": "Authorized Scopes:",
    "Authorization callback URL": "Authorization Callback URL:",
    "Callback URL": "Callback URL:",
    "OAuth Token ID": "OAuth token ID:",
    "Application (client) ID": "Application (Client) ID:",
    "Directory (tenant) ID": "Directory (Tenant) ID:",
}
# hosted login pages' own words: nothing the robot knows, for the fields and their buttons
_SIGNALS: dict[str, str] = {
    **_REWORDED,
    "Enter your email, phone, or Skype.": "Who is signing in?",
    "Email, phone, or Skype": "Identifier",
    "Next": "Proceed",
    "Enter password": "Prove it is you",
    "Password": "Secret",
    "Enter code": "The number from your app",
    "Code": "Number",
    "Verify": "Proceed",
    "Username or email": "Identifier",
    "Sign in": "Go",
    "Authentication code": "Number from your app",
    "Two-factor authentication": "One more step",
    "Email": "Identifier",
    "Continue": "Go",
}
_TABLES = {"plain": {}, "reworded": _REWORDED, "signals": _SIGNALS}


def check(choice: str) -> str:
    if choice not in WORDINGS:
        raise ValueError(f"wording {choice!r} is not one of {', '.join(WORDINGS)}")
    return choice


def word(wording: str, plain: str) -> str:
    """`plain` in the words of `wording`."""
    return _TABLES[wording].get(plain, plain)
