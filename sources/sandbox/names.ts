/**
 * Word lists the generators draw people and companies from. Diverse on purpose: names with
 * apostrophes, hyphens and accents exercise the same encoding paths real data does.
 */

export const FIRST_NAMES: readonly string[] = [
  'Ada', 'Alan', 'Grace', 'Linus', 'Margaret', 'Dennis', 'Barbara', 'Ken', 'Frances', 'Edsger',
  'Radia', 'Tim', 'Hedy', 'John', 'Katherine', 'Donald', 'Sophie', 'Niklaus', 'Joan', 'Bjarne',
  'Anita', 'Guido', 'Shafi', 'James', 'Mary', 'Yukihiro', 'Lynn', 'Rasmus', 'Carol', 'Anders',
  'Priya', 'Wei', 'Fatima', 'Mateo', 'Aisha', 'Lars', 'Ingrid', 'Kenji', 'Amara', 'Diego',
  'Chloé', 'Björn', 'Zoë', 'Oluwaseun', 'Siobhan', 'Rahul', 'Mei', 'Tomás', 'Elif', 'Nikolai',
  'Leila', 'Hiroshi', 'Ana', 'Kwame', 'Freya', 'Ravi', 'Camila', 'Omar', 'Hana', 'Pierre',
  'Greta', 'Jamal', 'Lucía', 'Sven', 'Nadia', 'Arjun', 'Yara', 'Mikhail', 'Esther', 'Kofi',
];

export const LAST_NAMES: readonly string[] = [
  'Lovelace', 'Turing', 'Hopper', 'Torvalds', 'Hamilton', 'Ritchie', 'Liskov', 'Thompson', 'Allen',
  'Dijkstra', 'Perlman', 'Berners-Lee', 'Lamarr', 'McCarthy', 'Johnson', 'Knuth', 'Wilson',
  'Wirth', 'Clarke', 'Stroustrup', 'Borg', 'van Rossum', 'Goldwasser', 'Gosling', 'Keller',
  'Matsumoto', 'Conway', 'Lerdorf', 'Shaw', 'Hejlsberg', 'Patel', 'Zhang', 'Haddad', 'García',
  'Okafor', 'Nilsson', 'Larsen', 'Tanaka', 'Mensah', 'Fernández', "O'Brien", 'Müller', 'Novak',
  'Adeyemi', 'Murphy', 'Sharma', 'Chen', 'Silva', 'Yılmaz', 'Petrov', 'Rahimi', 'Sato', 'Costa',
  'Boateng', 'Andersen', 'Iyer', 'Rojas', 'Farouk', 'Kim', 'Dubois', 'Schmidt', 'Washington',
  'Álvarez', 'Johansson', 'Khan', 'Reddy', 'Nasser', 'Volkov', 'Cohen', 'Asante',
];

/** Company names for email domains; each becomes `<word>.example` (RFC 2606 reserved). */
export const COMPANY_WORDS: readonly string[] = [
  'acme', 'globex', 'initech', 'umbrella', 'hooli', 'vandelay', 'wayne', 'stark', 'cyberdyne',
  'soylent', 'tyrell', 'wonka', 'oscorp', 'massive', 'gringotts', 'monsters', 'aperture',
  'blackmesa', 'northwind', 'contoso', 'fabrikam', 'tailspin', 'litware', 'adventureworks',
  'woodgrove', 'proseware', 'lucerne', 'margie', 'fourthcoffee', 'wideworld',
];

/**
 * Lower-case ASCII form of a name for an email local part: accents stripped, spaces and
 * apostrophes removed (`O'Brien` -> `obrien`, `van Rossum` -> `vanrossum`).
 */
export function emailLocalPart(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ı/g, 'i')
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '');
}
