CREATE TABLE visits (id serial PRIMARY KEY, at timestamptz DEFAULT now());
