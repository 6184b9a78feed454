"""The Microsoft Entra admin center (entra.microsoft.com): app registrations and their blades, consent settings."""
