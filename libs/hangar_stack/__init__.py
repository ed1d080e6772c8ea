"""Local stack launcher: embedded real infrastructure plus the five services behind Traefik."""
