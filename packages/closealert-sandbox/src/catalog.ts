// The fixed world the generator draws from: forms, mailings, groups, people and what they write.

export interface FormDefinition {
  id: number;
  formType: string;
  name: string;
  weight: number;
  scoreMin: number;
  scoreMax: number;
  sentimentQuestion: string;
  /** Question '1' is reworded for responses after the middle of the generated span. */
  rewordedSentimentQuestion?: string;
  commentQuestion: string;
  emailQuestion: string;
  textQuestion: string;
}

export const FORMS: readonly FormDefinition[] = [
  {
    id: 34,
    formType: 'email-satisfaction',
    name: 'Email satisfaction form',
    weight: 35,
    scoreMin: 1,
    scoreMax: 5,
    sentimentQuestion: 'What do you think of this email?',
    rewordedSentimentQuestion: 'How would you rate this e-mail?',
    commentQuestion: 'Why did you give this rating?',
    emailQuestion: 'Can we have your e-mail address?',
    textQuestion: 'Anything else you want to tell us?',
  },
  {
    id: 35,
    formType: 'nps',
    name: 'Net promoter score',
    weight: 20,
    scoreMin: 0,
    scoreMax: 10,
    sentimentQuestion: 'How likely are you to recommend us to a friend?',
    commentQuestion: 'What is the main reason for your score?',
    emailQuestion: 'May we contact you about your answer?',
    textQuestion: 'Your phone number (optional)',
  },
  {
    id: 36,
    formType: 'service',
    name: 'Customer service survey',
    weight: 20,
    scoreMin: 1,
    scoreMax: 5,
    sentimentQuestion: 'How satisfied are you with our service?',
    commentQuestion: 'What could we do better?',
    emailQuestion: 'Your e-mail address',
    textQuestion: 'Your order number',
  },
  {
    id: 37,
    formType: 'product-review',
    name: 'Product review',
    weight: 15,
    scoreMin: 1,
    scoreMax: 5,
    sentimentQuestion: 'How do you rate the product?',
    commentQuestion: 'Tell us about the product',
    emailQuestion: 'Where can we send your discount code?',
    textQuestion: 'Which product did you buy?',
  },
  {
    id: 38,
    formType: 'email-satisfaction',
    name: 'Newsletter feedback',
    weight: 10,
    scoreMin: 1,
    scoreMax: 5,
    sentimentQuestion: 'Did you enjoy this newsletter?',
    commentQuestion: 'What would you like to read more about?',
    emailQuestion: 'Your e-mail address',
    textQuestion: 'Topics you are interested in',
  },
];

export interface GroupDefinition {
  id: number;
  name: string;
}

const NEWSLETTERS: GroupDefinition = { id: 44, name: 'Newsletters' };
const TRANSACTIONAL: GroupDefinition = { id: 45, name: 'Transactional' };
const CAMPAIGNS: GroupDefinition = { id: 46, name: 'Campaigns' };

export interface MailingDefinition {
  id: number;
  name: string;
  group: GroupDefinition;
}

export const MAILINGS: readonly MailingDefinition[] = [
  { id: 4201, name: 'Weekly newsletter', group: NEWSLETTERS },
  { id: 4202, name: 'Monthly digest', group: NEWSLETTERS },
  { id: 4203, name: 'Order confirmation', group: TRANSACTIONAL },
  { id: 4204, name: 'Delivery notice', group: TRANSACTIONAL },
  { id: 4205, name: 'Service follow-up', group: TRANSACTIONAL },
  { id: 4206, name: 'Spring sale', group: CAMPAIGNS },
  { id: 4207, name: 'Black Friday', group: CAMPAIGNS },
  { id: 4208, name: 'Loyalty surprise', group: CAMPAIGNS },
];

export const FIRST_NAMES = [
  'Anna',
  'Bram',
  'Chloé',
  'Daan',
  'Emma',
  'Finn',
  'Greta',
  'Hugo',
  'Iris',
  'Jörg',
  'Julia',
  'Lars',
  'Lotte',
  'Milan',
  'Noor',
  'Oscar',
  'Priya',
  'Ruben',
  'Sofia',
  'Zoë',
] as const;

export const LAST_NAMES = [
  'de Vries',
  'Jansen',
  'Bakker',
  'Visser',
  'Smit',
  'Meijer',
  'Mulder',
  'de Boer',
  'Dekker',
  'Bos',
  'Peters',
  'Hendriks',
  'Schmidt',
  'Müller',
  'Dubois',
  'Rossi',
  'Kowalski',
  'Nielsen',
  'Garcia',
  'Khan',
] as const;

export const MAIL_DOMAINS = [
  'gmail.com',
  'outlook.com',
  'hotmail.nl',
  'ziggo.nl',
  'yahoo.com',
  'proton.me',
] as const;

export const SEGMENTS = ['gold', 'silver', 'bronze', 'new'] as const;

export const POSITIVE_COMMENTS = [
  'I love the articles in this email',
  'Great service, thank you!',
  'Fast delivery and friendly staff',
  'Exactly what I was looking for',
  'Clear and helpful',
] as const;

export const NEGATIVE_COMMENTS = [
  'Too many e-mails this week',
  'My order arrived late',
  'Nobody answered my question',
  'The product broke after two days',
  'Not relevant for me',
] as const;

export const FREE_TEXTS = [
  'Please call me back',
  '+31 6 12345678',
  'Order 2024-18734',
  'Gardening, cooking',
  '-',
] as const;

export interface DeviceProfile {
  deviceType: string;
  operatingSystem: string;
  userAgent: string;
}

export const DEVICES: readonly DeviceProfile[] = [
  {
    deviceType: 'desktop',
    operatingSystem: 'windows',
    userAgent:
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
  },
  {
    deviceType: 'desktop',
    operatingSystem: 'macos',
    userAgent:
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  },
  {
    deviceType: 'desktop',
    operatingSystem: 'linux',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  },
  {
    deviceType: 'mobile',
    operatingSystem: 'ios',
    userAgent:
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  },
  {
    deviceType: 'mobile',
    operatingSystem: 'android',
    userAgent:
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36',
  },
  {
    deviceType: 'tablet',
    operatingSystem: 'ios',
    userAgent:
      'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  },
  {
    deviceType: 'tablet',
    operatingSystem: 'other',
    userAgent: 'Mozilla/5.0 (Linux; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/123.0 Safari/537.36',
  },
];
