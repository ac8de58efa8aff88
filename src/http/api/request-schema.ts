// The body of POST /api/v1/consent-requests: who the request is for and how to reach them. Shape and types
// only (a bad request is a 400 before any work); the use case checks personal numbers, ages and guardians.
// Documented in openapi.yaml with examples; the answer's schema is in schemas.ts.
import { z } from 'zod';
import { textInput } from '../../domain/text.ts';

export const contact = {
  phone: textInput()
    .max(40)
    .optional()
    .meta({ description: 'Mobile number for the SMS invitation', example: '070-123 45 67' }),
  email: z
    .email()
    .max(254)
    .optional()
    .meta({ description: 'E-mail address for the invitation', example: 'anna@hem.example' }),
};
const protectedIdentityIn = z
  .boolean()
  .optional()
  .meta({
    description:
      'Skyddade personuppgifter (sekretessmarkering, skyddad folkbokföring): the phone is never printed on the ' +
      'form, phone and e-mail are shown to no one but the caller who made the request, and messages go only ' +
      'to the contacts given here',
  });
export const personalNumberIn = textInput().min(1).max(20).meta({
  description: 'Swedish personal number (12 or 10 digits, with or without hyphen)',
  example: '201203152384',
});

export const newConsentRequestSchema = z
  .object({
    teamId: z.uuid().meta({ description: 'The HLT team (the requesting organisation must belong to it)' }),
    organisationId: z
      .uuid()
      .optional()
      .meta({
        description:
          'Staff in more than one organisation: the one the request is made for (default: their organisation ' +
          'in the chosen team). API clients always act for their own organisation.',
      }),
    child: z.object({
      name: textInput().max(200).meta({ example: 'Saga Lindqvist' }),
      personalNumber: personalNumberIn,
      healthCentre: textInput().max(200).optional().meta({ example: 'Hälsocentralen Norrby' }),
      school: textInput()
        .max(200)
        .optional()
        .meta({ description: 'Preschool or school', example: 'Björkskolan' }),
      protectedIdentity: protectedIdentityIn,
    }),
    guardians: z
      .array(
        z.object({
          name: textInput().max(200).meta({ example: 'Anna Lindqvist' }),
          personalNumber: personalNumberIn,
          ...contact,
          protectedIdentity: protectedIdentityIn,
        }),
      )
      .min(1)
      .max(2)
      .meta({ description: 'One or two guardians; a phone and/or an e-mail for each invitation' }),
    soleGuardian: z.boolean().meta({ description: 'The first guardian is the only guardian' }),
    youthSigns: z.boolean().optional().meta({
      description: 'Ask a child below the age threshold to sign too (at or above it the youth always signs)',
    }),
    youth: z
      .object(contact)
      .optional()
      .meta({ description: "The youth's phone/e-mail: required when the youth signs" }),
  })
  .meta({ id: 'NewConsentRequest', description: 'A request for consent' });
