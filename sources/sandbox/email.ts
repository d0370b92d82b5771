/**
 * The join key between the CRM and the support desk: an email compared case-insensitively after
 * trimming. The systems store emails as people typed them; only this normal form is comparable.
 */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
