"""An approved or paid payout, its lines and its adjustments never change (SPEC 4.4)."""

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION payouts_payout_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status IN ('approved', 'paid') THEN
            RAISE EXCEPTION 'payout % is %, it cannot be deleted', OLD.id, OLD.status
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status = 'paid' THEN
        RAISE EXCEPTION 'payout % is paid, it cannot change', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.status = 'approved' THEN
        -- The only change allowed: marking it paid, nothing else.
        IF NEW.status <> 'paid' OR NEW.person_id <> OLD.person_id OR NEW.quarter <> OLD.quarter
           OR NEW.snapshot_id <> OLD.snapshot_id OR NEW.plan_version_id <> OLD.plan_version_id
           OR NEW.approved_by_id IS DISTINCT FROM OLD.approved_by_id
           OR NEW.approved_at IS DISTINCT FROM OLD.approved_at
           OR NEW.payout_date <> OLD.payout_date THEN
            RAISE EXCEPTION 'payout % is approved, it can only be marked paid', OLD.id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER payouts_payout_guard
    BEFORE UPDATE OR DELETE ON payouts_payout
    FOR EACH ROW EXECUTE FUNCTION payouts_payout_guard();

CREATE OR REPLACE FUNCTION payouts_child_guard() RETURNS trigger AS $$
DECLARE
    parent_status text;
BEGIN
    SELECT status INTO parent_status FROM payouts_payout
     WHERE id = COALESCE(NEW.payout_id, OLD.payout_id);
    IF parent_status IN ('approved', 'paid') THEN
        RAISE EXCEPTION 'the payout is %, its lines and adjustments cannot change', parent_status
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.payout_id <> NEW.payout_id THEN
        SELECT status INTO parent_status FROM payouts_payout WHERE id = OLD.payout_id;
        IF parent_status IN ('approved', 'paid') THEN
            RAISE EXCEPTION 'the payout is %, its lines cannot move', parent_status
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    RETURN COALESCE(NEW, OLD);
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER payouts_payoutline_guard
    BEFORE INSERT OR UPDATE OR DELETE ON payouts_payoutline
    FOR EACH ROW EXECUTE FUNCTION payouts_child_guard();
CREATE TRIGGER payouts_payoutadjustment_guard
    BEFORE INSERT OR UPDATE OR DELETE ON payouts_payoutadjustment
    FOR EACH ROW EXECUTE FUNCTION payouts_child_guard();
"""

REVERSE = """
DROP TRIGGER IF EXISTS payouts_payoutadjustment_guard ON payouts_payoutadjustment;
DROP TRIGGER IF EXISTS payouts_payoutline_guard ON payouts_payoutline;
DROP TRIGGER IF EXISTS payouts_payout_guard ON payouts_payout;
DROP FUNCTION IF EXISTS payouts_child_guard();
DROP FUNCTION IF EXISTS payouts_payout_guard();
"""


class Migration(migrations.Migration):
    dependencies = [("payouts", "0003_payouts")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
