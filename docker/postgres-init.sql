-- The application's role is not a superuser, so row-level security holds for it
-- (docs/row-level-security.md). It owns its database; the image's superuser stays for admins.
CREATE ROLE ats LOGIN PASSWORD 'ats';
CREATE DATABASE ats OWNER ats;
