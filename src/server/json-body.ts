/**
 * The JSON body parser of the API. Unlike a generic parser it says what is wrong: a syntax error
 * with its position, or a `__proto__` / `constructor.prototype` key, which is refused because it
 * could change the prototype of objects built from the body (prototype poisoning).
 */
import { badRequest, HttpError, oneLine } from '../jobs/http-error';

export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw badRequest('the JSON body is empty');
  try {
    return JSON.parse(text, (key, value) => {
      if (key === '__proto__') throw badRequest('the JSON body has a "__proto__" key, which is refused (it could alter object prototypes): remove it');
      if (key === 'constructor' && value !== null && typeof value === 'object' && Object.prototype.hasOwnProperty.call(value, 'prototype')) {
        throw badRequest('the JSON body has a "constructor.prototype" key, which is refused (it could alter object prototypes): remove it');
      }
      return value;
    });
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw badRequest(`the body is not valid JSON (${oneLine(String((err as Error)?.message ?? err))})`);
  }
}
