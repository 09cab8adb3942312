"""Bank rails' use cases: the participants directory (``participants``) and parties' bank
accounts (``bank_accounts``); outbound and inbound transfers come here next (issue 19)."""
