"""Security: the security event trail (sign-ins, lockouts, role and e-mail changes, exports, imports,
suspensions), and the shared controls every module uses (safe redirects, outbound-connection rules,
response headers)."""
