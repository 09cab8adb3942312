"""One plain transfer in one round trip (issue 18, PostgreSQL only).

``ledger_transfer_plain`` does, in the caller's statement, what the ledger's three round
trips do for the commonest request — one posted transfer between two accounts, no flags:
lock both accounts in ascending id order (as every ledger batch locks, so nothing
deadlocks), make the checks the Python planner makes of such a transfer (both accounts
exist, one currency ledger, no overflow, a wallet not overdrawn, a
``credits_must_not_exceed_debits`` account not over-credited), draw the ledger clock, insert
the transfer, queue its seal and add the two balance changes. It returns the transfer's
timestamp, or NULL having written nothing when any check fails: the planner then decides
the request in its own transaction, so every refusal keeps its code and message. An id
already used trips the transfers' unique index as the ordinary write does, and the service
answers with the look-up (``exists``). The rows, the seal queue, the constraints, the
foreign keys and the accounts' guard trigger are the same as for the ordinary write.

The flag bits are the ledger's (``AccountFlags``: 1 debits must not exceed credits, 2
credits must not exceed debits), fixed as TigerBeetle's; the clock's stride and the largest
amount come from the caller (``limits``). SQLite has no functions of this kind: its path is
unchanged.

Revision ID: 0065_ledger18fn_plain_transfer
Revises: 0064_loanreturn_loan_cancelled
Create Date: 2026-12-08
"""

from alembic import op

revision = "0065_ledger18fn_plain_transfer"
down_revision = "0064_loanreturn_loan_cancelled"
branch_labels = None
depends_on = None

FUNCTION = """
CREATE FUNCTION ledger_transfer_plain(
    p_id text, p_debit text, p_credit text, p_amount bigint, p_ledger text, p_code integer,
    p_metadata text, p_created_at_ns bigint, p_stride bigint, p_max bigint
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    r record;
    d record;
    c record;
    found_count integer := 0;
    stamp bigint;
BEGIN
    FOR r IN
        SELECT id, ledger, flags, debits_pending, debits_posted, credits_pending,
               credits_posted
        FROM ledger_accounts WHERE id IN (p_debit, p_credit) ORDER BY id FOR UPDATE
    LOOP
        IF r.id = p_debit THEN d := r; ELSE c := r; END IF;
        found_count := found_count + 1;
    END LOOP;
    IF found_count <> 2 OR p_debit = p_credit THEN
        RETURN NULL;
    END IF;
    IF d.ledger <> c.ledger OR d.ledger <> p_ledger THEN
        RETURN NULL;
    END IF;
    -- Written so that no sum can overflow a bigint (p_max is 2^63 - 1).
    IF d.debits_pending > p_max - d.debits_posted - p_amount
       OR c.credits_pending > p_max - c.credits_posted - p_amount THEN
        RETURN NULL;
    END IF;
    IF (d.flags & 1) <> 0
       AND d.debits_pending + d.debits_posted + p_amount > d.credits_posted THEN
        RETURN NULL;
    END IF;
    IF (c.flags & 2) <> 0
       AND c.credits_pending + c.credits_posted + p_amount > c.debits_posted THEN
        RETURN NULL;
    END IF;
    stamp := nextval('ledger_clock_seq') * p_stride;
    INSERT INTO ledger_transfers (timestamp, id, debit_account_id, credit_account_id, amount,
        ledger, code, flags, pending_id, timeout_seconds, expires_at_ns, metadata,
        created_at_ns)
    VALUES (stamp, p_id, p_debit, p_credit, p_amount, p_ledger, p_code, 0, NULL, 0, NULL,
        p_metadata, p_created_at_ns);
    INSERT INTO ledger_seals (transfer_timestamp, block_no) VALUES (stamp, NULL);
    UPDATE ledger_accounts SET debits_posted = debits_posted + p_amount WHERE id = p_debit;
    UPDATE ledger_accounts SET credits_posted = credits_posted + p_amount WHERE id = p_credit;
    RETURN stamp;
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION ledger_transfer_plain(text, text, text, bigint, text, integer, "
            "text, bigint, bigint, bigint)"
        )
