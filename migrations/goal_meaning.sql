-- What a goal's number means to a reader: which way it should move (a behaviour to reduce
-- is a 'decrease' goal: fewer call-outs is progress), the plain name of what is measured
-- ("call-outs per lesson"), and, for duration goals, whether the criterion is one
-- continuous run ("15 continuous minutes": the longest run counts, not the sum).
ALTER TABLE goal
    ADD COLUMN direction text NOT NULL DEFAULT 'increase' CHECK (direction IN ('increase', 'decrease')),
    ADD COLUMN measure_name text NOT NULL DEFAULT '' CHECK (length(measure_name) <= 80),
    ADD COLUMN continuous boolean NOT NULL DEFAULT false;
