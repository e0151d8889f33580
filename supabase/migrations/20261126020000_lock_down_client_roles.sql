-- anon and authenticated are the roles of the keys a browser may hold. Row-level security with
-- no policy already hides every row from them, but RLS does not cover TRUNCATE, TRIGGER or
-- REFERENCES, nor sequences, and a new Supabase project grants them all of these on every new
-- table by default. The bot's data is reached only by the server (service_role), so the client
-- roles get nothing at all on its tables, sequences and functions. Later migrations that add a
-- table or function revoke the same way.
DO $$
DECLARE
  v_role TEXT;
  v_table TEXT;
  v_sequence TEXT;
  v_function REGPROCEDURE;
  v_tables TEXT[] := ARRAY['telegram_users', 'telegram_models', 'telegram_prompts',
                           'credit_ledger', 'conversation_states', 'processed_updates',
                           'signup_grants'];
BEGIN
  FOREACH v_role IN ARRAY ARRAY['anon', 'authenticated'] LOOP
    CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = v_role);
    FOREACH v_table IN ARRAY v_tables LOOP
      EXECUTE format('REVOKE ALL ON TABLE public.%I FROM %I', v_table, v_role);
      FOR v_sequence IN
        SELECT pg_get_serial_sequence(format('public.%I', v_table), a.attname)
        FROM pg_attribute a
        WHERE a.attrelid = format('public.%I', v_table)::regclass AND a.attnum > 0
          AND pg_get_serial_sequence(format('public.%I', v_table), a.attname) IS NOT NULL
      LOOP
        EXECUTE format('REVOKE ALL ON SEQUENCE %s FROM %I', v_sequence, v_role);
      END LOOP;
    END LOOP;
    FOR v_function IN
      SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'public' AND p.proname IN (
        'change_credits', 'grant_credits', 'ensure_user', 'create_model', 'fail_model',
        'create_generation', 'fail_generation', 'claim_model_upload', 'claim_generation_submit',
        'delete_user_data', 'bot_stats')
    LOOP
      EXECUTE format('REVOKE ALL ON FUNCTION %s FROM %I', v_function, v_role);
    END LOOP;
  END LOOP;
END $$;
